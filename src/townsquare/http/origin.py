"""The public origin: requests are seen as addressed to TOWNSQUARE_PUBLIC_URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from townsquare.settings import Settings


class PublicOrigin:
    """Every request reaches the app as if addressed to TOWNSQUARE_PUBLIC_URL, whatever its Host.

    Our own absolute URLs come from `Settings.absolute_url`; this covers the ones the framework
    makes from the request (the trailing-slash redirect), so no URL anywhere, in a body or a
    Location header, names a host the client chose (Host, X-Forwarded-Host, Forwarded).
    """

    DROPPED = frozenset({b"host", b"x-forwarded-host", b"forwarded"})

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        site = urlsplit(settings.site_url())
        secure = site.scheme == "https"
        self.host = site.netloc.encode("latin-1")
        self.server = (site.hostname or "localhost", site.port or (443 if secure else 80))
        self.schemes = {"http": site.scheme, "websocket": "wss" if secure else "ws"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in self.schemes:
            headers = [(k, v) for k, v in scope["headers"] if k not in self.DROPPED]
            scope = {
                **scope,
                "headers": [*headers, (b"host", self.host)],
                "scheme": self.schemes[scope["type"]],
                "server": self.server,
            }
        await self.app(scope, receive, send)
