"""One limit on the size of every request body, by kind of route, enforced while it streams.

Kinds: media uploads (a photo or clip and its form), pushed feed records, forms, and JSON (every
other route). A declared Content-Length over the limit is answered 413 before a byte is read;
a body without one (chunked) is counted as the app reads it: the app gets at most the limit
(it may answer on that, as a multipart parser meeting a file where none belongs does), and
when it asks for more the client gets 413 problem+json and the app sees the client gone, so
nothing past the limit is buffered, parsed or written. Routes that authenticate do so
before reading the body (the upload routes take the raw request for that), so the limit is
all an anonymous caller can make the server read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.errors import PayloadTooLarge
from townsquare.http.problems import problem
from townsquare.settings import Settings

UPLOADS = re.compile(r"^(/api/v1/media|/api/v1/cameras/[^/]+/clips|/posts/new)/?$")
PUSH = re.compile(r"^/api/v1/sources/[^/]+/records/?$")
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
MULTIPART_MARGIN = 64 * 1024
"""Room for a multipart body's boundaries, part headers and small fields beside the file."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Byte limits per kind of route, from the settings."""

    upload: int
    push: int
    form: int
    json: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits the settings give (an upload's is its largest file and the form around)."""
        largest = max(settings.media_max_image_bytes, settings.media_max_video_bytes)
        return cls(
            upload=largest + MULTIPART_MARGIN,
            push=settings.max_push_body_bytes,
            form=settings.max_form_body_bytes,
            json=settings.max_json_body_bytes,
        )

    def of_request(self, path: str, content_type: bytes) -> tuple[int, str]:
        """The limit of a request and the kind of route it is."""
        if UPLOADS.match(path):
            return self.upload, "uploads"
        if PUSH.match(path):
            return self.push, "pushed records"
        if content_type.startswith(FORM_TYPES):
            return self.form, "forms"
        return self.json, "request bodies"


class BodyLimit:
    """ASGI middleware counting each request's body bytes against its route kind's limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limits = Limits.of(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").lower()
        limit, kind = self.limits.of_request(scope["path"], content_type)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit, kind)
            return
        if b"transfer-encoding" not in headers and (declared.isdigit() or not declared):
            # The server reads the declared length at most, and no length and no chunking is no
            # body at all: nothing past the limit can arrive, nothing to count.
            await self.app(scope, receive, send)
            return
        state = _State()

        async def counted() -> Message:
            if state.refused:
                return {"type": "http.disconnect"}
            if state.over:
                await refuse()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                body: bytes = message.get("body", b"")
                if state.received + len(body) > limit:
                    # The app gets what fits (it may answer on that alone, as a parser that
                    # meets a bad part header does); asking for more is refused.
                    state.over = True
                    if state.received == limit:
                        await refuse()
                        return {"type": "http.disconnect"}
                    body = body[: limit - state.received]
                    message = {"type": "http.request", "body": body, "more_body": True}
                state.received += len(body)
            return message

        async def refuse() -> None:
            state.refused = True
            if not state.started:
                state.started = True
                await _too_large(scope, send, limit, kind)

        async def guarded(message: Message) -> None:
            if state.refused:
                return  # the 413 went out: what the app answers after is dropped
            if message["type"] == "http.response.start":
                state.started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not state.refused:
                raise  # the app's own failure; a read cut short by the limit ends here


@dataclass(slots=True)
class _State:
    received: int = 0
    over: bool = False
    refused: bool = False
    started: bool = False


async def _too_large(scope: Scope, send: Send, limit: int, kind: str) -> None:
    answer = problem(Request(scope), PayloadTooLarge(f"{kind} up to {limit} bytes"))
    answer.headers["connection"] = "close"  # the rest of the body is not read
    await answer(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
