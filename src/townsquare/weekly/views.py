"""The weekly summary API: public, no account, a circle of 200 m to 5 km."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from townsquare.db import utcnow
from townsquare.http.deps import platform_of
from townsquare.incidents.schemas import parse_time
from townsquare.weekly import service
from townsquare.weekly.schemas import WeeklySummary

router = APIRouter(tags=["weekly"])


@router.get(
    "/api/v1/weekly",
    summary="A week of public incidents in a circle, by category, against the 13 weeks before",
)
def weekly(
    request: Request,
    lat: Annotated[float, Query(description="centre latitude")],
    lon: Annotated[float, Query(description="centre longitude")],
    radius_m: Annotated[float, Query(description="radius, 200 to 5000 metres")] = 1000,
    end: Annotated[str | None, Query(description="end of the week, ISO 8601; default now")] = None,
) -> WeeklySummary:
    """GET the weekly summary of an area; withheld and removed incidents are never counted."""
    area = service.public_area(lat, lon, radius_m)
    until = parse_time("end", end) or utcnow()
    with platform_of(request).factory() as session:
        return service.summarise(session, area, until)
