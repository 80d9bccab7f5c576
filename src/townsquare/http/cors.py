"""Cross-origin reads of the public API and feeds, so a city's own website can show them.

Any origin may GET (and HEAD) under PUBLIC_PREFIXES, without credentials: a browser never
sends a reader's cookie cross-site with `*`, so only what anyone may read is readable. A
preflight asking for GET or HEAD is answered here; one asking for any other method is left to
the route (405 or the route's own answer), so no site can script a write.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIXES = ("/api/", "/feeds/", "/open311/")
READ_METHODS = frozenset({"GET", "HEAD"})
ALLOW_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since, Last-Event-ID"
EXPOSE_HEADERS = "ETag, Last-Modified, Link, X-Request-ID"
PREFLIGHT_MAX_AGE_S = 86400


class PublicCors:
    """`Access-Control-Allow-Origin: *` on public reads, and their preflights."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" not in headers:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        wanted = headers.get("access-control-request-method", "").upper()
        if method == "OPTIONS" and wanted in READ_METHODS:
            preflight = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, HEAD",
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
                },
            )
            await preflight(scope, receive, send)
            return
        if method not in READ_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_allowed(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = "*"
                out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_allowed)
