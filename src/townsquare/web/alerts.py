"""The watch-area page: subscribe an area, see each area's delivery log (data via the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from townsquare.incidents.views import platform_of
from townsquare.web.views import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    """Watch areas of this browser, a form for a new one, and their delivery logs."""
    lat, lon = platform_of(request).settings.map_center
    query = request.query_params
    return render(
        request,
        "alerts.html",
        lat=query.get("lat", f"{lat:.4f}"),
        lon=query.get("lon", f"{lon:.4f}"),
    )
