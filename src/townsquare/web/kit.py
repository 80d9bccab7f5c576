"""The page toolkit: a page rendered with what every template uses, the visitor a page is for,
the pages shown instead of a route's own, post/redirect/get and the text of form fields.

A route says who it is for in its signature (`PageActor`, `ModeratorPage`) and wraps its one
action in `refusal_shown`. What it cannot go on with (nobody signed in, a form without its
session's CSRF token, a role the visitor lacks, a refused action) is a `Detour`: an exception
carrying the page to show instead, answered by the handler `install` registers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.datastructures import FormData
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from townsquare import __version__, i18n
from townsquare.accounts import signin
from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import Forbidden, TownsquareError, Unauthorized
from townsquare.http.deps import (
    DB,
    SAFE_METHODS,
    SESSION_COOKIE,
    Config,
    current_actor,
    platform_of,
)
from townsquare.templating import Style, install_i18n, local_text, time_tag, utc_iso, zone_of
from townsquare.web import display

NO_STORE = {"Cache-Control": "no-store"}
LOCAL = "%Y-%m-%dT%H:%M"  # the value of an <input type="datetime-local">
Refused = TownsquareError | ValidationError
"""What a form's action may be refused with: a service's rule, or a field that does not parse."""


async def close_form(request: Request) -> AsyncIterator[None]:
    """Close the uploads of a form the route read itself (FastAPI closes only its own)."""
    try:
        yield
    finally:
        await request.close()


def page_router() -> APIRouter:
    """A router of pages: HTML answers, kept out of the API schema, uploads closed after."""
    return APIRouter(
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=[Depends(close_form)],
    )


# ---- rendering ------------------------------------------------------------------------------


def nav_actor(request: Request) -> Actor | None:
    """The visitor signed in by session cookie, or None: what the nav of a page shows.

    Read once per request; a missing, ended or idle session is simply nobody.
    """
    if hasattr(request.state, "nav_actor"):
        known: Actor | None = request.state.nav_actor
        return known
    actor = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        platform = platform_of(request)
        with platform.factory() as session:
            try:
                actor = signin.authenticate(
                    session, platform.settings, cookie=cookie, bearer=None, now=utcnow()
                )
            except Unauthorized:
                actor = None
    request.state.nav_actor = actor
    return actor


def content_security_policy(tile_url: str) -> str:
    """The pages' CSP: everything from this server; tile images also from the tile host."""
    images = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "*"))
        images += (
            f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else " https:"
        )
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page or fragment, with what every template uses and the pages' security headers.

    A whole page (a template whose file name does not start with `_`) also gets `actor`, the
    signed-in visitor or None, for the nav, unless the route passes its own.
    """
    settings = platform_of(request).settings
    context.update(settings=settings, now=utcnow(), version=__version__, pages=display)
    context.update(lang=i18n.current(), languages=i18n.LANGUAGES)
    templates: Jinja2Templates = request.app.state.web_templates
    headers = {
        "Content-Security-Policy": content_security_policy(settings.tile_url),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    if not PurePosixPath(template).name.startswith("_"):
        if "actor" not in context:
            context["actor"] = nav_actor(request)
        headers["Vary"] = "Cookie"  # the nav differs for a signed-in visitor
    return templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=headers
    )


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page that may hold account data: rendered, and never stored by a cache."""
    response = render(request, template, status_code, **context)
    response.headers.update(NO_STORE)
    return response


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get."""
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site (never another host), else `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def to_sign_in(next_path: str) -> RedirectResponse:
    """Send the visitor to sign in, then back to `next_path`."""
    return RedirectResponse(f"/sign-in?next={quote(next_path, safe='/')}", status_code=303)


# ---- detours: the page a route shows instead of its own -------------------------------------


class Detour(Exception):
    """Raised with the page to answer instead of the route's own."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _come_back_to(request: Request) -> str:
    """Where sign-in leads back to: the page itself (a fragment's page for a fragment), or for
    a form the page it was sent from when htmx names it."""
    if request.method in SAFE_METHODS:
        return request.url.path.split("/fragments/", 1)[0] or "/"
    return local_path(request.headers.get("hx-current-url"), "/account")


async def page_actor(request: Request, session: DB, settings: Config) -> Actor:
    """The signed-in visitor of a page or sender of a form; else sign in first, or (a form
    without its session's CSRF token) the page saying the form was refused."""
    try:
        return await current_actor(request, session, settings)
    except Unauthorized:
        raise Detour(to_sign_in(_come_back_to(request))) from None
    except Forbidden:
        raise Detour(page(request, "refused.html", 403, actor=None)) from None


PageActor = Annotated[Actor, Depends(page_actor)]


def role_page(*roles: str, refusal: str) -> Callable[[Request, Actor], Actor]:
    """A dependency: the page's visitor, who must hold one of `roles`; others see `refusal`."""

    def check(request: Request, actor: PageActor) -> Actor:
        if not any(actor.has(role) for role in roles):
            raise Detour(page(request, refusal, 403, actor=actor))
        return actor

    return check


ModeratorPage = Annotated[
    Actor, Depends(role_page("moderator", refusal="moderation/moderation_only.html"))
]


@contextmanager
def refusal_shown(
    session: Session,
    show: Callable[[Refused], Response],
    *errors: type[TownsquareError] | type[ValidationError],
) -> Iterator[None]:
    """Run a form's action; when it is refused (by default any `Refused`), roll back what it
    wrote and answer `show(refusal)` instead, the form's page with the reason."""
    caught = errors or (TownsquareError, ValidationError)
    try:
        yield
    except caught as exc:
        session.rollback()
        raise Detour(show(exc)) from exc


def _answer_detour(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Detour)
    return exc.response


# ---- what forms send, and refusals in words -------------------------------------------------


def text(form: FormData, name: str) -> str:
    """A text field ('' when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def utc_field(value: str, zone: str = "UTC") -> datetime | None:
    """A datetime-local value read in `zone` (the zone its form was sent with), as UTC; None
    when it does not parse."""
    try:
        local = datetime.strptime(value.strip()[:16], LOCAL)
    except ValueError:
        return None
    return local.replace(tzinfo=zone_of(zone)).astimezone(UTC)


def local_value(moment: datetime, zone: str = "UTC") -> str:
    """A time as a datetime-local value in `zone`."""
    return moment.astimezone(zone_of(zone)).strftime(LOCAL)


def form_zone(form: FormData) -> str:
    """The zone a form's times are in: its `time_zone` field (the browser's, or the site's
    the page rendered), UTC for a form sent without one."""
    return text(form, "time_zone").strip()[:64] or "UTC"


def as_sentence(detail: str) -> str:
    """A service's detail as a sentence: capitalised, one full stop."""
    return f"{detail[:1].upper()}{detail[1:]}".rstrip(".") + "."


def sentence(exc: Refused) -> str:
    """A refusal (or a malformed field, named by where it is) as a sentence naming the rule."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}." if where else f"{first['msg']}."
    return as_sentence(exc.detail)


def status_of(exc: Refused) -> int:
    """The status of a refusal's page: the error's own, 422 for a malformed field."""
    return 422 if isinstance(exc, ValidationError) else exc.status


# ---- the app's side -------------------------------------------------------------------------


@pass_context
def when(context: Context, moment: datetime, style: Style = "datetime") -> Markup:
    """`<time>` of an instant in the site's zone, which the pages' script turns into the
    reader's own: '7 Dec, 4:52 AM PST'."""
    return time_tag(moment, context["settings"].time_zone, style)


@pass_context
def when_text(context: Context, moment: datetime, style: Style = "datetime") -> str:
    """An instant as text in the site's zone, the zone named (for attributes)."""
    return local_text(moment, context["settings"].time_zone, style)


def make_templates(directory: str) -> Jinja2Templates:
    """The page templates with the formatting filters they use."""
    templates = Jinja2Templates(directory=directory)
    install_i18n(templates.env)
    templates.env.filters.update(
        utc_iso=utc_iso,
        when=when,
        when_text=when_text,
        age=display.relative_age,
        group=display.group_of,
        group_label=display.group_label,
        distance=display.distance_text,
        coordinates=display.coordinates_text,
        media_summary=display.media_summary,
    )
    return templates


def install(app: FastAPI, directory: str) -> None:
    """The page templates of `directory`, and the handler answering every `Detour`."""
    app.state.web_templates = make_templates(directory)
    app.add_exception_handler(Detour, _answer_detour)
