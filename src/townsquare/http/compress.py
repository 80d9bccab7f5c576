"""Compressed answers when the client asks: brotli (`br`) first, else gzip.

Pages, JSON, GeoJSON, Atom and CAP shrink several times over (the map page about tenfold).
Bodies under MINIMUM_SIZE, images, clips and the live stream (`text/event-stream`, whose
events must leave at once) go as they are; Starlette's responder handles all of that, this
adds brotli to it.
"""

from __future__ import annotations

import brotli
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipResponder,
    IdentityResponder,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500
BROTLI_QUALITY = 5
"""Brotli's middle setting: near its best ratio on text at a small fraction of level 11's CPU."""
GZIP_LEVEL = 6


def accepts(header: str, coding: str) -> bool:
    """Whether an Accept-Encoding header takes `coding` (present, and not with q=0)."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == coding:
            q = params.strip().removeprefix("q=").strip() if params.strip() else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


EXCLUDED = frozenset(DEFAULT_EXCLUDED_CONTENT_TYPES)
"""Media types (and `type/*` families) never compressed: already compressed, or streamed."""


def _compressible(headers: list[tuple[bytes, bytes]], status: int) -> bool:
    """Whether a response with these headers is one a compressing responder would encode."""
    if status == 206:
        return False
    media = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"content-type" and not media:
            media = value.decode("latin-1").partition(";")[0].strip().lower()
    family = media.partition("/")[0] + "/*"
    grpc = media.startswith("application/grpc+")
    return media not in EXCLUDED and family not in EXCLUDED and not grpc


def _identity(send: Send) -> Send:
    """The answer as it is, saying `Vary: Accept-Encoding` where a client that asked would
    have had it compressed (what Starlette's identity responder does, in one light pass)."""
    held: Message | None = None

    async def send_identity(message: Message) -> None:
        nonlocal held
        kind = message["type"]
        if kind == "http.response.start":
            if _compressible(message.setdefault("headers", []), message["status"]):
                held = message  # its Vary depends on the body's size
                return
        elif held is not None and kind in ("http.response.body", "http.response.pathsend"):
            start, held = held, None
            body = message.get("body", b"")
            worth = message.get("more_body", False) or len(body) >= MINIMUM_SIZE
            if kind == "http.response.body" and worth:
                MutableHeaders(scope=start).add_vary_header("Accept-Encoding")
            await send(start)
        await send(message)

    return send_identity


class BrotliResponder(IdentityResponder):
    """Starlette's identity responder with a brotli stream as its compression."""

    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        super().__init__(app, minimum_size)
        self.compressor = brotli.Compressor(quality=BROTLI_QUALITY)

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Compress a chunk; the last one ends the stream, others flush so they leave now."""
        out: bytes = self.compressor.process(body)
        end: bytes = self.compressor.flush() if more_body else self.compressor.finish()
        return out + end


class Compression:
    """Chooses the responder by the request's Accept-Encoding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = ""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                wanted = value.decode("latin-1")
                break
        responder: ASGIApp
        if accepts(wanted, "br"):
            responder = BrotliResponder(self.app, MINIMUM_SIZE)
        elif accepts(wanted, "gzip"):
            responder = GZipResponder(self.app, MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
        else:
            await self.app(scope, receive, _identity(send))
            return
        await responder(scope, receive, send)
