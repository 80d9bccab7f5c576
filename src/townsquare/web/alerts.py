"""The watch-area page, and the pages behind the links of alert mail (confirm, unsubscribe).

The mailed links work from the link alone: no account, no cookie (a confirmation counts
against the client address's hourly limit of anonymous writes; an unsubscribe does not).
A GET only shows a button (mail scanners fetch links, and must not confirm or unsubscribe
anyone); the POST acts. The unsubscribe POST also answers RFC 8058 one-click requests, which
mail clients send with the body `List-Unsubscribe=One-Click` and no cookie.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from townsquare.alerts import optin, plan
from townsquare.alerts.channels.registry import choices
from townsquare.db import utcnow
from townsquare.errors import TooManyRequests
from townsquare.http.deps import platform_of
from townsquare.http.ratelimit import count, retry_later
from townsquare.web.kit import page_router, render, sentence

router = page_router()
TOKEN_CHARS = 200


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    """Watch areas of this browser, a form for a new one, and their delivery logs."""
    settings = platform_of(request).settings
    lat, lon = settings.map_center
    query = request.query_params
    return render(
        request,
        "alerts/alerts.html",
        lat=query.get("lat", f"{lat:.4f}"),
        lon=query.get("lon", f"{lon:.4f}"),
        channels=choices(),
        groups=plan.groups(),
        digest_every=plan.every(settings.alert_digest_interval_s),
    )


@router.get("/alerts/confirm/{token}")
def confirm_page(request: Request, token: str) -> Response:
    """The page of a confirmation link: one button that confirms."""
    return render(request, "alerts/alerts_link.html", action="confirm", token=token[:TOKEN_CHARS])


@router.post("/alerts/confirm/{token}")
def confirm(request: Request, token: str) -> Response:
    """Confirm the address; alerts go to it from now on."""
    try:
        count(request, "anonymous")
    except TooManyRequests as exc:
        shown = render(
            request,
            "alerts/alerts_link.html",
            429,
            action="confirm",
            token=token[:TOKEN_CHARS],
            error=sentence(exc),
        )
        return retry_later(shown, exc)
    outcome = optin.confirm(platform_of(request).factory, token[:TOKEN_CHARS], now=utcnow())
    status = 200 if outcome in ("confirmed", "already") else 404
    return render(request, "alerts/alerts_link.html", status, action="confirm", outcome=outcome)


@router.get("/alerts/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    """The page of an unsubscribe link: one button that unsubscribes."""
    return render(
        request, "alerts/alerts_link.html", action="unsubscribe", token=token[:TOKEN_CHARS]
    )


@router.post("/alerts/unsubscribe/{token}")
def unsubscribe(request: Request, token: str) -> Response:
    """Stop the mails of this link's address for this area (RFC 8058 one-click too)."""
    platform = platform_of(request)
    done = optin.unsubscribe(platform.factory, platform.settings, token[:TOKEN_CHARS])
    outcome = "unsubscribed" if done else "gone"
    return render(request, "alerts/alerts_link.html", action="unsubscribe", outcome=outcome)
