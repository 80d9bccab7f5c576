"""The place search without JavaScript, and the place that travels between pages.

`/places?q=…&to=/weekly` lists the matches as links to the page the search came from, opened
at the place (`lat`, `lon`). Pages with a map start at the `lat`/`lon` of their URL
(`start_of`), and the nav's links carry the place on (`place_query`).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import Request, Response

from townsquare.errors import TownsquareError
from townsquare.places.views import find
from townsquare.web.kit import page_router, render

router = page_router()
DESTINATIONS = ("/", "/alerts", "/weekly", "/posts/new", "/cameras", "/agency", "/desk")
PLACE_PARAMS = ("lat", "lon", "radius_m")


def _point(request: Request) -> tuple[float, float] | None:
    """The `lat`, `lon` of a request's URL when they are a point on Earth."""
    try:
        lat = float(request.query_params.get("lat", ""))
        lon = float(request.query_params.get("lon", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    return lat, lon


def start_of(request: Request, default: tuple[float, float]) -> tuple[float, float]:
    """Where a page's map starts: the place in its URL, else `default`."""
    return _point(request) or default


def place_query(request: Request) -> str:
    """`?lat=…&lon=…&radius_m=…` of the current page's place, or '' when it has none."""
    if _point(request) is None:
        return ""
    kept = [(k, request.query_params[k]) for k in PLACE_PARAMS if request.query_params.get(k)]
    return "?" + urlencode(kept)


@router.get("/places")
def places_page(request: Request, q: str = "", to: str = "/") -> Response:
    """Matches of the search box as links, for a browser without JavaScript."""
    destination = to if to in DESTINATIONS else "/"
    places, error, status = [], None, 200
    if q.strip():
        try:
            places = find(request, q[:200], None, None, 10)
        except TownsquareError as exc:
            error, status = exc.detail, exc.status
    links = [
        (
            place,
            f"{destination}?{urlencode({'lat': f'{place.lat:.5f}', 'lon': f'{place.lon:.5f}'})}",
        )
        for place in places
    ]
    return render(
        request,
        "places/results.html",
        status,
        links=links,
        place_text=q,
        place_to=destination,
        error=error,
    )
