"""Curation desk API routes: the queue, one item, and the actions on it (moderators only)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query

from townsquare.db import utcnow
from townsquare.desk import actions, service
from townsquare.desk.schemas import DeskAction, DeskItem
from townsquare.desk.service import Filters
from townsquare.feedback import service as feedback
from townsquare.feedback.schemas import Quality
from townsquare.http.deps import DB, CurrentActor

router = APIRouter(prefix="/api/v1/desk", tags=["desk"])


@router.get("/queue", summary="Items entering the feed, with the gate's decision")
def queue(
    actor: CurrentActor,
    session: DB,
    limit: int = Query(default=50, ge=1, le=200),
    source: str = Query(default="", max_length=64, description="one source's slug"),
    lat: float | None = Query(default=None, ge=-90, le=90),
    lon: float | None = Query(default=None, ge=-180, le=180),
    radius_m: float | None = Query(default=None, gt=0, le=200_000),
    south: float | None = Query(default=None, ge=-90, le=90),
    west: float | None = Query(default=None, ge=-180, le=180),
    north: float | None = Query(default=None, ge=-90, le=90),
    east: float | None = Query(default=None, ge=-180, le=180),
) -> list[DeskItem]:
    """Waiting items first, newest first; each with reasons, provenance and nearby items.

    Narrowed to one source, and to a circle (lat, lon, radius_m) or a box (south, west,
    north, east; it wins over a circle) on the items' public points.
    """
    filters = Filters(source, lat, lon, radius_m, south, west, north, east)
    return service.queue(session, actor=actor, now=utcnow(), limit=limit, filters=filters)


@router.get("/quality", summary="Alerts marked by readers, and time to decision")
def quality(
    actor: CurrentActor, session: DB, days: int = Query(default=30, ge=1, le=366)
) -> Quality:
    """Per source and per category, over the incidents that entered the feed in `days`."""
    service.moderator(actor)
    now = utcnow()
    return feedback.quality(session, since=now - timedelta(days=days), until=now)


@router.get("/incidents/{incident_id}", summary="One incident as the desk sees it")
def get_item(incident_id: int, actor: CurrentActor, session: DB) -> DeskItem:
    """Any visibility, with the curators' decisions on it."""
    return service.item(session, incident_id, actor=actor, now=utcnow())


@router.post(
    "/incidents/{incident_id}/{action}",
    summary="rewrite, categorize, link, merge, withhold, publish, alert, retract or correct",
)
def act(
    incident_id: int, action: str, body: DeskAction, actor: CurrentActor, session: DB
) -> DeskItem:
    """One audited action; its outbox event carries the change to the feed and alerts."""
    return actions.act(session, incident_id, action, body, actor=actor, now=utcnow())
