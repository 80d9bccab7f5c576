"""HTTP caching of feeds and static files: ETag, Last-Modified, 304s and Cache-Control.

A feed reader or a city's website polling an area's GeoJSON, Atom or CAP every minute asks
`If-None-Match` (or `If-Modified-Since`) and gets `304 Not Modified` with no body while nothing
changed. The ETag is a hash of the body as the route made it (weak: the same whatever
content coding is applied on the way out); Last-Modified is the route's own, the newest
change among the items it lists. Feeds may be kept FEED_MAX_AGE_S; static files a day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.formats.cap import CAP_MEDIA_TYPE

FEED_TYPES = frozenset({"application/geo+json", "application/atom+xml", CAP_MEDIA_TYPE})
FEED_MAX_AGE_S = 30
STATIC_MAX_AGE_S = 86400
FEED_CACHE = f"public, max-age={FEED_MAX_AGE_S}"
STATIC_CACHE = f"public, max-age={STATIC_MAX_AGE_S}"
KEPT_ON_304 = ("etag", "last-modified", "cache-control", "vary", "content-location")


def http_date(when: datetime) -> str:
    """`when` as an HTTP date (Last-Modified), to the second."""
    return format_datetime(when.replace(microsecond=0), usegmt=True)


def _etag_matches(sent: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in sent.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _not_modified_since(sent: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(sent)
    except (TypeError, ValueError):
        return False  # an unreadable date is no condition


def not_modified(request: Headers, response: Headers) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.1: If-None-Match wins)."""
    if "if-none-match" in request:
        etag = response.get("etag")
        return etag is not None and _etag_matches(request["if-none-match"], etag)
    since, modified = request.get("if-modified-since"), response.get("last-modified")
    return since is not None and modified is not None and _not_modified_since(since, modified)


class FeedCaching:
    """ETag and 304 on successful GETs of GeoJSON, Atom and CAP; Cache-Control on them and
    on `/static/`. Feed bodies are one bounded page, so holding one to hash it is cheap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):
            await self.app(scope, receive, _with_cache_control(send, STATIC_CACHE))
            return
        if scope["method"] == "HEAD":  # no body to hash: the GET has the validators
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold_feeds(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] == 200 and _is_feed(message.get("headers", ())):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await _send_feed(start, b"".join(chunks), request, send)
                return
            await send(message)

        await self.app(scope, receive, hold_feeds)


def _is_feed(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:  # the first Content-Type, as Headers.get reads it
        if name.lower() == b"content-type":
            return value.decode("latin-1").partition(";")[0].strip() in FEED_TYPES
    return False


async def _send_feed(start: Message, body: bytes, request: Headers, send: Send) -> None:
    headers = MutableHeaders(raw=start["headers"])
    if "etag" not in headers:  # a route that knows its page's version says it (the JSON feed)
        headers["ETag"] = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers.setdefault("Cache-Control", FEED_CACHE)
    if not_modified(request, headers):
        kept = [(k, v) for k, v in headers.raw if k.decode("latin-1") in KEPT_ON_304]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(start)
    await send({"type": "http.response.body", "body": body})


def _with_cache_control(send: Send, value: str) -> Send:
    async def send_cached(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in (200, 304):
            MutableHeaders(scope=message).setdefault("Cache-Control", value)
        await send(message)

    return send_cached
