"""Hourly limits per client address on what anyone may do without signing in.

Sign-ups, password-reset mails and every other unauthenticated write (a watch area, an
e-mail or alert confirmation, a new password from a link) each count per client address (the
one `http/proxy.py` found behind a trusted proxy; an IPv6 client by its /64, which one
subscriber usually holds whole) in the store's `accounts.throttle` counters, so the limit holds
across nodes. Past the limit: 429 with `Retry-After` until the hour's window ends. A request
carrying a live session or API token is not counted: the account answers for it. Routes that
authenticate with keys of their own (pushed feed records, camera clips, a watch area's manage
token) are not limited here; nor is a one-click unsubscribe, which mail providers send from
their own servers for many readers and which only removes. Anonymous alert feedback and
sign-in failures have limits of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from ipaddress import IPv6Address, IPv6Network, ip_address
from typing import Literal

from fastapi import Request, Response

from townsquare.accounts import security, signin, throttle
from townsquare.db import utcnow
from townsquare.errors import TooManyRequests, Unauthorized
from townsquare.http.deps import SESSION_COOKIE, bearer_token, client_address, platform_of
from townsquare.settings import Settings

Kind = Literal["sign-up", "password-reset", "anonymous"]
WINDOW = timedelta(hours=1)
WHAT: dict[Kind, str] = {
    "sign-up": "sign-ups",
    "password-reset": "password reset requests",
    "anonymous": "requests without signing in",
}


def limit_of(settings: Settings, kind: Kind) -> int:
    """The hourly limit of one kind of anonymous write."""
    if kind == "sign-up":
        return settings.signup_per_hour
    if kind == "password-reset":
        return settings.password_reset_per_hour
    return settings.anonymous_writes_per_hour


def client_key(host: str) -> str:
    """What a client address counts as: itself, or its /64 for IPv6."""
    try:
        parsed = ip_address(host)
    except ValueError:
        return host
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def count(request: Request, kind: Kind) -> None:
    """Count this request against its client's `kind` limit; TooManyRequests past it.
    Requests with a live session or API token are not counted."""
    platform = platform_of(request)
    settings, now = platform.settings, utcnow()
    with platform.factory() as session:
        cookie, bearer = request.cookies.get(SESSION_COOKIE), bearer_token(request)
        if cookie or bearer:
            try:
                signin.authenticate(session, settings, cookie=cookie, bearer=bearer, now=now)
                return
            except Unauthorized:
                session.rollback()
        client = client_key(client_address(request))
        key = security.keyed_digest(security.server_secret(settings), f"rate|{kind}|{client}")
        limit = limit_of(settings, kind)
        retry = throttle.hit(session, key, limit, WINDOW, now)
    if retry is not None:
        wait = throttle.seconds_until(retry, now)
        minutes = max(1, round(wait / 60))
        raise TooManyRequests(
            f"at most {limit} {WHAT[kind]} an hour from one address: try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}",
            retry_after=wait,
        )


def limited(kind: Kind) -> Callable[[Request], None]:
    """A route dependency counting each request against the `kind` limit (see `count`)."""

    def dependency(request: Request) -> None:
        count(request, kind)

    return dependency


def retry_later(response: Response, exc: Exception) -> Response:
    """A page answering a refusal, with `Retry-After` when the refusal is a rate limit's."""
    if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
