"""Public page routes: the feed page of a place, its htmx fragments, and an incident's page."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from townsquare import __version__
from townsquare.accounts import signin
from townsquare.accounts.schemas import Actor
from townsquare.accounts.security import server_secret
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, NotFound, TownsquareError, Unauthorized
from townsquare.feedback import service as feedback
from townsquare.feedback.schemas import VERDICTS
from townsquare.feedback.views import reader
from townsquare.http.deps import DB, SESSION_COOKIE, Config, optional_actor, platform_of
from townsquare.templating import utc_iso
from townsquare.web import feed as pages

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def feed_page_of(request: Request) -> pages.FeedPage:
    """The feed page for this request's query parameters."""
    platform = platform_of(request)
    params = pages.FeedParams.from_query(request.query_params, platform.settings.map_center)
    return pages.load_feed(platform, params)


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


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page or fragment, with what every template uses and the pages' security headers.

    A whole page (a template not named `_*`) also gets `actor`, the signed-in visitor or None,
    for the nav, unless the route passes its own.
    """
    settings = platform_of(request).settings
    context.update(settings=settings, now=utcnow(), version=__version__, pages=pages)
    templates: Jinja2Templates = request.app.state.web_templates
    headers = {
        "Content-Security-Policy": pages.content_security_policy(settings.tile_url),
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


@router.get("/")
def feed_page(request: Request) -> Response:
    """The newest incidents of a place: map, filters, list; bad parameters explained in-page."""
    feed = feed_page_of(request)
    return render(request, "feed/feed.html", feed.status_code, feed=feed)


@router.get("/fragments/incidents")
def feed_fragment(request: Request) -> Response:
    """htmx: the results of a new search, or (with `cursor`) the next items of the list."""
    feed = feed_page_of(request)
    template = "feed/_more.html" if feed.params.cursor else "feed/_results.html"
    response = render(request, template, feed.status_code, feed=feed)
    if not feed.params.cursor and feed.error is None:
        response.headers["HX-Push-Url"] = feed.params.url()
    return response


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str, marked: str = "") -> Response:
    """One incident: what, where (to about 100 m), when, from whom, and why it was (not) alerted."""
    try:
        incident = pages.load_incident(platform_of(request), incident_id)
    except NotFound:
        return render(request, "feed/not_found.html", 404, incident_id=incident_id)
    verdict = marked if marked in VERDICTS else None
    return render(request, "feed/incident.html", incident=incident, marked=verdict)


@router.post("/incidents/{incident_id}/feedback")
async def incident_feedback(
    request: Request, incident_id: int, session: DB, settings: Config
) -> Response:
    """A reader's mark on an alert, from the form on its page (works without JavaScript)."""
    form = await request.form()
    verdict = form.get("verdict")
    try:
        if verdict not in VERDICTS:
            raise InvalidParameter("verdict", "choose not useful or inaccurate")
        actor = await optional_actor(request, session, settings)
        feedback.vote(
            session,
            settings,
            server_secret(settings),
            incident_id,
            verdict,
            reader(request, actor),
            utcnow(),
        )
    except TownsquareError as exc:
        session.rollback()
        try:
            incident = pages.load_incident(platform_of(request), str(incident_id))
        except NotFound:
            return render(request, "feed/not_found.html", 404, incident_id=incident_id)
        message = f"{exc.detail[:1].upper()}{exc.detail[1:]}."
        return render(request, "feed/incident.html", exc.status, incident=incident, refused=message)
    return RedirectResponse(f"/incidents/{incident_id}?marked={verdict}#feedback", 303)


def make_templates() -> Jinja2Templates:
    """The page templates with the formatting filters they use."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(
        utc_iso=utc_iso,
        age=pages.relative_age,
        group=pages.group_of,
        group_label=pages.group_label,
        distance=pages.distance_text,
        coordinates=pages.coordinates_text,
        media_summary=pages.media_summary,
    )
    return templates


def mount(app: FastAPI) -> None:
    """Add the page routes and static files to `app`."""
    app.state.web_templates = make_templates()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
