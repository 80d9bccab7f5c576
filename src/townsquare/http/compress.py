"""Compressed answers when the client asks: brotli (`br`) first, else gzip.

Pages, JSON, GeoJSON, Atom and CAP shrink several times over (the map page about tenfold).
Bodies under MINIMUM_SIZE, images, clips and the live stream (`text/event-stream`, whose
events must leave at once) go as they are; Starlette's responder handles all of that, this
adds brotli to it.
"""

from __future__ import annotations

import brotli
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

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
        wanted = Headers(scope=scope).get("accept-encoding", "")
        responder: ASGIApp
        if accepts(wanted, "br"):
            responder = BrotliResponder(self.app, MINIMUM_SIZE)
        elif accepts(wanted, "gzip"):
            responder = GZipResponder(self.app, MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
        else:
            responder = IdentityResponder(self.app, MINIMUM_SIZE)
        await responder(scope, receive, send)
