"""The weekly summary page of a place: a small map of the area and the table of categories."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from townsquare.db import utcnow
from townsquare.errors import InvalidParameter
from townsquare.http.deps import platform_of
from townsquare.incidents.schemas import parse_time
from townsquare.web.kit import page_router, render
from townsquare.weekly import service
from townsquare.weekly.schemas import MAX_RADIUS_M, MIN_RADIUS_M, WeeklySummary

router = page_router()
RADIUS_CHOICES_M = (250, 500, 1000, 2000, 5000)


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidParameter(name, f"{text!r} is not a number") from None


@router.get("/weekly")
def weekly_page(request: Request) -> Response:
    """This week in an area against the same weeks before; bad parameters explained in-page."""
    platform = platform_of(request)
    query = request.query_params
    centre = platform.settings.map_center
    form = {
        "lat": query.get("lat", "").strip() or f"{centre[0]:.4f}",
        "lon": query.get("lon", "").strip() or f"{centre[1]:.4f}",
        "radius_m": query.get("radius_m", "").strip() or "1000",
    }
    try:
        area = service.public_area(*(_number(k, v) for k, v in form.items()))
        end = parse_time("end", query.get("end", "").strip() or None) or utcnow()
    except InvalidParameter as exc:
        return _page(request, 422, form, None, f"{exc.parameter}: {exc.detail}")
    with platform.factory() as session:
        summary = service.summarise(session, area, end)
    return _page(request, 200, form, summary, None)


def _page(
    request: Request,
    status: int,
    form: dict[str, str],
    summary: WeeklySummary | None,
    error: str | None,
) -> Response:
    return render(
        request,
        "weekly/weekly.html",
        status,
        form=form,
        summary=summary,
        error=error,
        radii=RADIUS_CHOICES_M,
        min_radius=MIN_RADIUS_M,
        max_radius=MAX_RADIUS_M,
    )
