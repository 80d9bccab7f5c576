"""The curation desk page: the live queue of items entering the feed and the curators' actions.

Each action is a form carrying the session's CSRF token and a reason; `desk.actions.act`
audits it and announces its outbox event. A refusal (409 naming the rule, 422) is shown
inline on the item's form. The queue fragment is polled by desk.js, which also gives the page
its keyboard (j/k, a/r/m/w/c/x, Enter, Esc, ?).

The queue can be narrowed to one source and an area (a circle around a place, or a box drawn
on the map): the filters are the page's query, so a filtered desk is a link. The page keeps
itself current through `/desk/fragments/changes`: it sends the fingerprints of the items it
holds and gets back only the new and changed ones with the queue's order, or 304 Not Modified
(ETag) when nothing changed.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from townsquare import taxonomy
from townsquare.accounts.schemas import Actor
from townsquare.alerts import curated
from townsquare.db import utcnow
from townsquare.desk import actions, service
from townsquare.desk.schemas import DeskAction, DeskItem
from townsquare.desk.service import Filters
from townsquare.errors import TownsquareError
from townsquare.feedback import service as feedback
from townsquare.feedback.schemas import Quality
from townsquare.http.deps import DB, platform_of
from townsquare.web.kit import (
    NO_STORE,
    ModeratorPage,
    Refused,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
)

router = page_router()
FIELDS = ("title", "summary", "category", "severity", "status", "into")
QUALITY_DAYS = 30
DEFAULT_RADIUS_M = 2000.0
"""The circle around a place that came without a radius (a place search's link)."""
DONE = {
    "rewrite": "Rewritten",
    "categorize": "Category and severity changed",
    "link": "Linked",
    "merge": "Merged",
    "withhold": "Withheld",
    "publish": "Published",
    "alert": "Sent as an alert",
    "retract": "Retracted",
    "correct": "Correction sent",
}


def waited(seconds: int | None) -> str:
    """'42 s', '7 min', '3 h 5 min'; '–' when there is nothing to tell."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _number(request: Request, name: str, low: float, high: float) -> float | None:
    try:
        value = float(request.query_params.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def filters_of(request: Request) -> Filters:
    """The desk's filters from the page's query; a field that does not parse filters nothing.

    A place without a radius (the link of a place search) is the circle of `DEFAULT_RADIUS_M`.
    """
    lat, lon = _number(request, "lat", -90, 90), _number(request, "lon", -180, 180)
    radius_m = _number(request, "radius_m", 1, 200_000)
    if lat is not None and lon is not None and radius_m is None:
        radius_m = DEFAULT_RADIUS_M
    return Filters(
        source=request.query_params.get("source", "").strip()[:64],
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        south=_number(request, "south", -90, 90),
        west=_number(request, "west", -180, 180),
        north=_number(request, "north", -90, 90),
        east=_number(request, "east", -180, 180),
    )


def _context(session: DB, actor: Actor, filters: Filters) -> dict[str, Any]:
    queue = service.queue(session, actor=actor, now=utcnow(), filters=filters)
    return {
        "queue": queue,
        "categories": sorted(taxonomy.categories()),
        "waited": waited,
        "gate_line": service.gate_line,
        "fingerprint": service.fingerprint,
        "filters": filters,
    }


def _page(
    request: Request,
    session: DB,
    actor: Actor,
    status: int = 200,
    *,
    error: dict[str, Any] | None = None,
    done: str | None = None,
    show_quality: bool = False,
) -> Response:
    filters = filters_of(request)
    context = _context(session, actor, filters)
    if error is not None and all(i.id != error["id"] for i in context["queue"]):
        # The refused item is no longer in the queue (removed, closed): show it on top.
        try:
            extra: DeskItem = service.item(session, error["id"], actor=actor, now=utcnow())
            context["queue"] = [extra, *context["queue"]]
        except TownsquareError:
            pass
    return page(
        request,
        "desk/desk.html",
        status,
        actor=actor,
        error=error,
        done=done,
        quality=_quality(session) if show_quality else None,
        quality_days=QUALITY_DAYS,
        sources=service.sources(session),
        **context,
    )


def _quality(session: DB) -> Quality:
    now = utcnow()
    return feedback.quality(session, since=now - timedelta(days=QUALITY_DAYS), until=now)


def done_note(action: str, incident_id: int | None, into: int | None) -> str | None:
    """What the last action did, composed here (a link cannot put words on the page)."""
    if action not in DONE or incident_id is None:
        return None
    return f"{DONE[action]}: incident {incident_id}" + (f" into {into}" if into else "")


@router.get("/desk")
async def desk_page(
    request: Request,
    session: DB,
    actor: ModeratorPage,
    done: str = "",
    item: int | None = None,
    into: int | None = None,
    quality: bool = False,
) -> Response:
    """The queue: waiting items first, newest first, each with its actions.

    The quality figures scan the last 30 days, so they load when their panel is opened (or
    with `?quality=1` without JavaScript), not on every return to the page after an action.
    """
    note = done_note(done, item, into)
    if note and done == "alert" and item is not None:  # what the alert did, in figures
        note += " — " + curated.outcome(session, item, utcnow()).sentence()
    return _page(request, session, actor, done=note, show_quality=quality)


@router.get("/desk/fragments/quality")
async def desk_quality(request: Request, session: DB, actor: ModeratorPage) -> Response:
    """The quality figures alone, loaded when the panel is opened."""
    return page(
        request,
        "desk/_desk_quality.html",
        actor=actor,
        quality=_quality(session),
        quality_days=QUALITY_DAYS,
        waited=waited,
    )


@router.get("/desk/fragments/queue")
async def desk_queue(request: Request, session: DB, actor: ModeratorPage) -> Response:
    """The queue alone (with the page's filters)."""
    context = _context(session, actor, filters_of(request))
    return page(request, "desk/desk_queue.html", actor=actor, error=None, **context)


def _have(value: str) -> dict[int, str]:
    """`12.ab34cd,13.ef56…`: the items a page holds, id and fingerprint."""
    have: dict[int, str] = {}
    for part in value.split(",")[:500]:
        item_id, _, printed = part.partition(".")
        if item_id.isdigit():
            have[int(item_id)] = printed[:16]
    return have


@router.get("/desk/fragments/changes")
async def desk_changes(
    request: Request, session: DB, actor: ModeratorPage, have: str = ""
) -> Response:
    """What the open desk lacks: 304 when the queue is as it was at the ETag the page sends,
    else the queue's order and only the new and changed items."""
    filters = filters_of(request)
    service.moderator(actor)
    rows = service.queue_rows(session, filters, 50)
    etag = f'"{service.stamp(session, rows, filters)}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag} | NO_STORE)
    found = service.changes(session, rows, _have(have), now=utcnow())
    response = page(
        request,
        "desk/_desk_changes.html",
        actor=actor,
        error=None,
        queue=found.changed,
        order=found.order,
        categories=sorted(taxonomy.categories()),
        waited=waited,
        gate_line=service.gate_line,
        fingerprint=service.fingerprint,
        filters=filters,
    )
    response.headers["ETag"] = etag
    return response


@router.post("/desk/incidents/{incident_id}/{action}")
async def desk_act(
    request: Request, incident_id: int, action: str, session: DB, actor: ModeratorPage
) -> Response:
    """One action on one item, with its reason; refusals are shown on the item's form."""
    form = await request.form()
    values: dict[str, Any] = {"reason": text(form, "reason")}
    for name in FIELDS:
        value = text(form, name).strip()
        if value:
            values[name] = value
    error = {"id": incident_id, "action": action, "fields": values}
    if action not in DONE:
        return _page(request, session, actor, 404, error=error | {"message": "No such action."})
    try:
        body = DeskAction.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][-1]) if first["loc"] else "reason"
        message = f"{name}: {first['msg']}"
        return _page(request, session, actor, 422, error=error | {"message": message})

    def refused(exc: Refused) -> Response:
        message = sentence(exc)
        return _page(request, session, actor, status_of(exc), error=error | {"message": message})

    with refusal_shown(session, refused, TownsquareError):
        actions.act(session, incident_id, action, body, actor=actor, now=utcnow())
    if action == "alert":  # decided now, so the page after the click tells what was sent
        platform_of(request).alerts.decide_now(incident_id)
    into = body.into if action in ("merge", "link") else None
    query = f"done={action}&item={incident_id}" + (f"&into={into}" if into else "")
    kept = filters_of(request).query()  # the filters travel in the form's URL
    return see_other(f"/desk?{query}{'&' + kept if kept else ''}#item-{into or incident_id}")
