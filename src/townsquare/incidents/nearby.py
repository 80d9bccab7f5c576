"""Incidents near a point and a time, found through H3 cells: corroboration and duplicates."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import geo
from townsquare.incidents.models import Incident

NEAR_M = 300.0
NEAR_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class Near:
    """An incident within reach, with how far (metres) and how many minutes apart it is."""

    incident: Incident
    distance_m: float
    minutes_apart: float


def nearby(
    session: Session,
    point: geo.Point,
    occurred_at: datetime,
    *,
    origins: Collection[str] | None = None,
    exclude: int | None = None,
    radius_m: float = NEAR_M,
    window: timedelta = NEAR_WINDOW,
) -> list[Near]:
    """Public incidents within `radius_m` and `window` of a point and time, nearest first."""
    query = select(Incident).where(
        Incident.visibility == "public",
        Incident.h3_r7.in_(geo.disk_cells(point, radius_m, 7)),
        Incident.occurred_at.between(occurred_at - window, occurred_at + window),
    )
    if origins is not None:
        query = query.where(Incident.origin.in_(list(origins)))
    if exclude is not None:
        query = query.where(Incident.id != exclude)
    found = []
    for incident in session.scalars(query.order_by(Incident.id)):
        distance = geo.haversine_m(point.lat, point.lon, incident.lat, incident.lon)
        if distance <= radius_m:
            apart = abs((incident.occurred_at - occurred_at).total_seconds()) / 60
            found.append(Near(incident, round(distance, 1), round(apart, 1)))
    return sorted(found, key=lambda n: (n.distance_m, n.minutes_apart, n.incident.id))
