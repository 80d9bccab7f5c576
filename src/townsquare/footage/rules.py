"""The bounds of a footage request; each refusal names the field and the rule it broke.

Plain functions over plain data: the service hands them the body, the agency's jurisdiction
and the time, and stores what they return.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from townsquare import shapes
from townsquare.errors import InvalidParameter
from townsquare.footage import area
from townsquare.footage.schemas import CircleIn, FileRequest

MIN_SQUARE_MILES = 0.025
MAX_SQUARE_MILES = 0.5
MIN_WINDOW = timedelta(minutes=15)
MAX_WINDOW = timedelta(hours=12)
LOOKBACK = timedelta(days=30)
MAX_EXPIRY = timedelta(days=14)
MAX_VERTICES = 200
MAX_RADIUS_M = 10_000.0
FOOTAGE_POLYGON = shapes.Limits(MAX_VERTICES + 1, max_extent_m=5_000.0, holes=False)
"""200 vertices and the closing position; 5 km across is far past half a square mile."""


@dataclass(frozen=True, slots=True)
class Area:
    """A checked request area."""

    kind: str
    ring: area.Ring
    center_lat: float
    center_lon: float
    radius_m: float | None
    area_m2: float


def _circle(given: CircleIn) -> Area:
    try:
        shapes.check_circle(given.lat, given.lon, given.radius_m, max_radius_m=MAX_RADIUS_M)
    except shapes.ShapeError as exc:
        raise InvalidParameter("circle", str(exc)) from exc
    ring = area.circle(given.lat, given.lon, given.radius_m)
    return Area("circle", ring, given.lat, given.lon, given.radius_m, math.pi * given.radius_m**2)


def _polygon(given: dict[str, Any]) -> Area:
    if given.get("type") != "Polygon":
        raise InvalidParameter("polygon", "a GeoJSON Polygon: one closed outer ring, no holes")
    try:
        ring = shapes.check_polygon(given.get("coordinates"), FOOTAGE_POLYGON)[0][:-1]
    except shapes.ShapeError as exc:
        raise InvalidParameter("polygon", str(exc)) from exc
    lat, lon = area.centroid(ring)
    return Area("polygon", ring, lat, lon, None, area.area_m2(ring))


def check_area(body: FileRequest, jurisdiction: str | None) -> Area:
    """The request's area, sized within the bounds and inside the agency's jurisdiction."""
    if (body.circle is None) == (body.polygon is None):
        raise InvalidParameter("area", "give exactly one of `circle` or `polygon`")
    field = "circle" if body.circle is not None else "polygon"
    checked = _circle(body.circle) if body.circle is not None else _polygon(body.polygon or {})
    square_miles = checked.area_m2 / area.SQUARE_MILE_M2
    if not MIN_SQUARE_MILES <= square_miles <= MAX_SQUARE_MILES:
        raise InvalidParameter(
            field,
            f"area must be {MIN_SQUARE_MILES} to {MAX_SQUARE_MILES} square miles "
            f"(this one is {square_miles:.3f})",
        )
    polygons = area.polygons_of(jurisdiction) if jurisdiction else []
    if not polygons:
        raise InvalidParameter("area", "the agency has no jurisdiction on file to check it against")
    if not area.ring_within(checked.ring, polygons):
        raise InvalidParameter(field, "area must lie wholly inside the agency's jurisdiction")
    return checked


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    """The time window: 15 minutes to 12 hours, ended, begun within the last 30 days."""
    if end <= start:
        raise InvalidParameter("window_end", "the window must end after it starts")
    if end - start < MIN_WINDOW:
        raise InvalidParameter("window_end", "the window must be at least 15 minutes long")
    if end - start > MAX_WINDOW:
        raise InvalidParameter("window_end", "the window must be at most 12 hours long")
    if end > now:
        raise InvalidParameter("window_end", "the window must end in the past")
    if start < now - LOOKBACK:
        raise InvalidParameter("window_start", "the window must start within the last 30 days")


def check_expiry(expires_at: datetime, now: datetime) -> None:
    """The expiry: in the future, at most 14 days away."""
    if expires_at <= now:
        raise InvalidParameter("expires_at", "the expiry must be in the future")
    if expires_at > now + MAX_EXPIRY:
        raise InvalidParameter("expires_at", "the expiry must be at most 14 days away")


def check_request(body: FileRequest, jurisdiction: str | None, now: datetime) -> Area:
    """Every bound of a request; the first one broken is raised."""
    if not body.case_number.strip():
        raise InvalidParameter("case_number", "a case number is required")
    if not body.reason.strip():
        raise InvalidParameter("reason", "a reason is required")
    check_window(body.window_start, body.window_end, now)
    check_expiry(body.expires_at, now)
    return check_area(body, jurisdiction)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """True if two time windows share an instant."""
    return a_start < b_end and b_start < a_end
