"""/dev/outbox: the local demo's mail, newest first, its links clickable.

Served only when `mail.local_outbox` holds (DEV_OUTBOX on, account mail on `console`, a
plain-http site on loopback), and only to a browser on this machine that no proxy relayed;
anywhere else the page does not exist (404), so a deployment cannot show residents' links to
strangers by a forgotten setting.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from townsquare import mail
from townsquare.errors import NotFound
from townsquare.http.deps import Config, client_address
from townsquare.web.kit import page, page_router

router = page_router()
LINK = re.compile(r"https?://[^\s<>\"']+")
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def from_this_machine(request: Request) -> bool:
    """True for a request from a loopback address that no proxy relayed."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        return ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


def linked(body: str) -> Markup:
    """A plain-text body as HTML, its http(s) URLs made links (everything else escaped)."""
    parts: list[str] = []
    last = 0
    for found in LINK.finditer(body):
        parts.append(escape(body[last : found.start()]))
        url = escape(found.group(0))
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = found.end()
    parts.append(escape(body[last:]))
    return Markup("").join(parts)


@router.get("/dev/outbox")
def outbox(request: Request, settings: Config) -> Response:
    """The mail the console backend kept, newest first (404 outside a local demo)."""
    if not (mail.local_outbox(settings) and from_this_machine(request)):
        raise NotFound("no such page")
    messages = [(kept, linked(kept.body)) for kept in mail.kept(settings)]
    return page(request, "accounts/outbox.html", messages=messages)
