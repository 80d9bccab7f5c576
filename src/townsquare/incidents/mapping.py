"""What a feed's map shows beyond its list: every category present in an area with its count,
and the points of an area (active ones, plus those closed lately) in one light query each.

The list stays paged 25 at a time; the map and the category filter see the whole area. Both
read the store with the feed's own H3 cell filter and its exact distance test, grouping by
coarsened point first, so a wide area costs one row per point, not per incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from townsquare import geo
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import BBox, Circle
from townsquare.privacy.public import seal_point, seal_text

MAP_LIMIT = 1000
"""At most this many points on a map; past it the map says the area holds more."""


@dataclass(frozen=True, slots=True)
class MapPoint:
    """One marker: enough to draw, colour and link it, nothing the list's page adds."""

    id: int
    lat: float
    lon: float
    category: str
    title: str
    status: str
    severity: int
    occurred_at: datetime
    resident: bool


def _area_conditions(area: Circle | BBox) -> list[Any]:
    if isinstance(area, BBox):
        return [
            Incident.lon.between(area.west, area.east),
            Incident.lat.between(area.south, area.north),
        ]
    res = 9 if area.radius_m <= 1_000 else 7 if area.radius_m <= 10_000 else 5
    column = {5: Incident.h3_r5, 7: Incident.h3_r7, 9: Incident.h3_r9}[res]
    return [column.in_(geo.disk_cells(area.center, area.radius_m, res))]


def _inside(area: Circle | BBox, lat: float, lon: float) -> bool:
    if isinstance(area, BBox):
        return area.west <= lon <= area.east and area.south <= lat <= area.north
    return geo.haversine_m(area.center.lat, area.center.lon, lat, lon) <= area.radius_m


def _category_condition(category: str | None) -> list[Any]:
    if not category:
        return []
    prefix = Incident.category.startswith(category + ".", autoescape=True)
    return [or_(Incident.category == category, prefix)]


def category_counts(session: Session, area: Circle | BBox) -> Counter[str]:
    """How many public, active incidents of each category the area holds (the feed's set)."""
    stmt = (
        select(Incident.category, Incident.lat, Incident.lon, func.count())
        .where(
            Incident.visibility == "public",
            Incident.status == "active",
            *_area_conditions(area),
        )
        .group_by(Incident.category, Incident.lat, Incident.lon)
    )
    counts: Counter[str] = Counter()
    for category, lat, lon, n in session.execute(stmt):
        if _inside(area, lat, lon):
            counts[category] += n
    return counts


def map_points(
    session: Session,
    area: Circle | BBox,
    *,
    category: str | None,
    closed_since: datetime,
    limit: int = MAP_LIMIT,
) -> tuple[list[MapPoint], bool]:
    """The newest public incidents of the area, active or closed since `closed_since`, at most
    `limit`; and whether the area holds more."""
    recent = or_(Incident.status == "active", Incident.closed_at >= closed_since)
    stmt = (
        select(
            Incident.id,
            Incident.lat,
            Incident.lon,
            Incident.category,
            Incident.title,
            Incident.status,
            Incident.severity,
            Incident.occurred_at,
            Incident.origin,
        )
        .where(
            Incident.visibility == "public",
            recent,
            *_area_conditions(area),
            *_category_condition(category),
        )
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())
    )
    rows = session.execute(stmt.execution_options(yield_per=2000))
    try:
        return _first_points(rows, area, limit)
    finally:
        rows.close()  # the limit stops the walk with PostgreSQL's server-side cursor open


def _first_points(
    rows: Iterable[Any], area: Circle | BBox, limit: int
) -> tuple[list[MapPoint], bool]:
    """The first `limit` rows inside the area as sealed points; True when more were left."""
    points: list[MapPoint] = []
    for row in rows:
        if not _inside(area, row.lat, row.lon):
            continue
        if len(points) == limit:
            return points, True
        point = seal_point(row.lat, row.lon)
        points.append(
            MapPoint(
                id=row.id,
                lat=point.lat,
                lon=point.lon,
                category=row.category,
                title=seal_text(row.title),
                status=row.status,
                severity=row.severity,
                occurred_at=row.occurred_at,
                resident=row.origin == "resident",
            )
        )
    return points, False
