"""Headers every response carries, whatever route made it.

`X-Content-Type-Options: nosniff` everywhere (a JSON, Atom or media answer is never sniffed
into a page), and `Strict-Transport-Security` when the public URL is HTTPS, so a browser that
once came over HTTPS never falls back to plain HTTP. Routes' own headers are kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.settings import Settings

HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers above to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        headers = {b"x-content-type-options": b"nosniff"}
        if settings.site_url().startswith("https://"):
            headers[b"strict-transport-security"] = HSTS.encode()
        self.headers = list(headers.items())  # encoded once, not per response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.setdefault("headers", [])
                present = {name.lower() for name, _ in raw}
                missing = [(k, v) for k, v in self.headers if k not in present]
                if missing:
                    message["headers"] = [*raw, *missing]
            await send(message)

        await self.app(scope, receive, send_with_headers)
