"""The language each request is answered in (see `townsquare.i18n.choose`).

Chosen before any route runs, so a page, a mail sent on the way and an error page all speak
the same one; pages say they vary by it, so a shared cache never serves one to the other.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare import i18n


class Language:
    """Speaks the request's language for its whole handling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header chooses nothing
            cookies = SimpleCookie()
        chosen = cookies.get(i18n.COOKIE)
        lang = i18n.choose(chosen.value if chosen else None, headers.get("accept-language"))
        page = not scope.get("path", "").startswith("/api/")

        async def send_varying(message: Message) -> None:
            if page and message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Accept-Language")
            await send(message)

        with i18n.speaking(lang):
            await self.app(scope, receive, send_varying)
