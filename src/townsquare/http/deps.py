"""Request dependencies: the running platform, a store session, settings and the caller.

Routes never import the composition root (`townsquare.platform`): they see it as `Runtime`,
the few attributes a request needs, read from `app.state.platform`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from townsquare.accounts import security, signin
from townsquare.accounts.schemas import Actor
from townsquare.alerts.runtime import AlertEngine
from townsquare.db import utcnow
from townsquare.errors import Forbidden, Unauthorized
from townsquare.incidents.encoded import EncodedFeed
from townsquare.incidents.index import FeedIndex
from townsquare.live.hub import StreamHub
from townsquare.settings import Settings

SESSION_COOKIE = "ts_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Runtime(Protocol):
    """What a request may use of the running platform (`townsquare.platform.Platform`)."""

    settings: Settings
    factory: sessionmaker[Session]
    index: FeedIndex
    index_lock: threading.RLock
    encoded: EncodedFeed
    hub: StreamHub
    alerts: AlertEngine


def platform_of(request: Request) -> Runtime:
    """The platform this app was built with."""
    platform: Runtime = request.app.state.platform
    return platform


def db_session(request: Request) -> Iterator[Session]:
    """A session of the platform's store for one request."""
    with platform_of(request).factory() as session:
        yield session


def settings_of(request: Request) -> Settings:
    """The platform's settings."""
    return platform_of(request).settings


DB = Annotated[Session, Depends(db_session)]
Config = Annotated[Settings, Depends(settings_of)]


def client_address(request: Request) -> str:
    """The address the request came from, as the server saw it (failed sign-ins count on it)."""
    return request.client.host if request.client else "unknown"


Client = Annotated[str, Depends(client_address)]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def current_actor(request: Request, session: DB, settings: Config) -> Actor:
    """The signed-in caller; unsafe cookie requests must carry the session's CSRF token."""
    actor = signin.authenticate(
        session,
        settings,
        cookie=request.cookies.get(SESSION_COOKIE),
        bearer=bearer_token(request),
        now=utcnow(),
    )
    if request.method not in SAFE_METHODS and not actor.via_token:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            value = (await request.form()).get("csrf_token")
            sent = value if isinstance(value, str) else None
        if not sent or not actor.csrf_token or not security.same(sent, actor.csrf_token):
            raise Forbidden("missing or wrong CSRF token")
    return actor


async def optional_actor(request: Request, session: DB, settings: Config) -> Actor | None:
    """The signed-in caller, or None for anyone (pages that work both ways)."""
    try:
        return await current_actor(request, session, settings)
    except Unauthorized:
        return None


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


def require_role(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency: the signed-in caller, who must hold one of `roles` (403 otherwise)."""

    def check(actor: CurrentActor) -> Actor:
        if not any(actor.has(role) for role in roles):
            raise Forbidden(f"needs the {' or '.join(roles)} role")
        return actor

    return check


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure whenever the site is HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_days * 86400),
        httponly=True,
        samesite="lax",
        secure=settings.site_url().startswith("https://"),
        path="/",
    )
