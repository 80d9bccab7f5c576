"""`GET /api/v1/places`: the search box's suggestions. Public; the query is never logged."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Query, Request

from townsquare.errors import InvalidParameter
from townsquare.http.deps import settings_of
from townsquare.places.schemas import PlacePublic
from townsquare.places.service import SEARCH_LIMIT_MAX, Geocoder, Place, geocoder_for

router = APIRouter(tags=["places"])
_made = threading.Lock()
QUERY_MAX = 200


def geocoder_of(request: Request) -> Geocoder:
    """The app's geocoder, made on first use from its settings."""
    state = request.app.state
    with _made:
        if getattr(state, "geocoder", None) is None:
            state.geocoder = geocoder_for(settings_of(request))
    geocoder: Geocoder = state.geocoder
    return geocoder


def find(request: Request, q: str, lat: float | None, lon: float | None, limit: int) -> list[Place]:
    """Checked parameters searched: the one call the API and the page share."""
    if not q.strip():
        raise InvalidParameter("q", "type part of a street, corner or place name")
    if (lat is None) != (lon is None):
        raise InvalidParameter("lat" if lat is None else "lon", "give both lat and lon, or neither")
    near = None
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidParameter("lat", "not a point on Earth")
        near = (lat, lon)
    return geocoder_of(request).search(q.strip(), near=near, limit=limit)


@router.get(
    "/api/v1/places",
    summary="Streets, corners, places and addresses matching a query, optionally near a point",
    responses={
        422: {"description": "empty query or half a point (problem+json)"},
        503: {"description": "no place index built, or the remote geocoder is down"},
    },
)
def places(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=QUERY_MAX,
            description='what was typed: "3rd Ave & Pike St", "Market", "530 Haight St"',
        ),
    ],
    lat: Annotated[float | None, Query(description="bias towards this latitude")] = None,
    lon: Annotated[float | None, Query(description="bias towards this longitude")] = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT_MAX, description="most answers")] = 8,
) -> list[PlacePublic]:
    """GET suggestions for a search box, best first; no account needed."""
    return [PlacePublic.of(place) for place in find(request, q, lat, lon, limit)]
