"""The language each request is answered in (see `townsquare.i18n.choose`).

Chosen before any route runs, so a page, a mail sent on the way and an error page all speak
the same one; pages say they vary by it, so a shared cache never serves one to the other.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare import i18n

CHOSEN_KEPT = 256
"""Accept-Language headers whose choice is remembered: browsers send a handful of them."""


class Language:
    """Speaks the request's language for its whole handling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.by_header: dict[str | None, str] = {}

    def _language(self, cookie: str | None, accept_language: str | None) -> str:
        if cookie is not None:
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(cookie)
            except Exception:  # a malformed Cookie header chooses nothing
                cookies = SimpleCookie()
            chosen = cookies.get(i18n.COOKIE)
            if chosen is not None:
                return i18n.choose(chosen.value, accept_language)
        lang = self.by_header.get(accept_language)
        if lang is None:
            lang = i18n.choose(None, accept_language)
            if len(self.by_header) < CHOSEN_KEPT:
                self.by_header[accept_language] = lang
        return lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = accept_language = None
        for name, value in scope["headers"]:
            if name == b"cookie" and cookie is None:
                cookie = value.decode("latin-1")
            elif name == b"accept-language" and accept_language is None:
                accept_language = value.decode("latin-1")
        lang = self._language(cookie, accept_language)
        if scope.get("path", "").startswith("/api/"):  # JSON: no page varies by it
            with i18n.speaking(lang):
                await self.app(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Accept-Language")
            await send(message)

        with i18n.speaking(lang):
            await self.app(scope, receive, send_varying)
