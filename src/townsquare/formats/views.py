"""CAP 1.2 routes: one incident's CAP message and the Atom index of an area's CAP alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from townsquare.db import utcnow
from townsquare.formats.cap import CAP_MEDIA_TYPE, Origin, cap_index
from townsquare.formats.service import cap_message
from townsquare.incidents.views import feed_query, platform_of, public_url_of, run_feed

router = APIRouter(tags=["feeds"])
Param = Annotated[str | None, Query()]


@router.get("/feeds/cap/{incident_id}.xml", summary="One incident as a CAP 1.2 message")
def cap_document(request: Request, incident_id: int) -> Response:
    """GET the current CAP message (Alert, Update or Cancel) of an incident."""
    platform = platform_of(request)
    with platform.factory() as session:
        body = cap_message(session, incident_id, Origin(platform.settings.site_url()))
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.get("/feeds/cap", summary="Atom index of the CAP alerts of an area")
def cap_feed(
    request: Request,
    lat: Param = None,
    lon: Param = None,
    radius_m: Param = None,
    bbox: Param = None,
    category: Param = None,
    limit: Param = None,
) -> Response:
    """GET the newest alertable incidents of an area, each linking to its CAP message."""
    platform = platform_of(request)
    params = dict(request.query_params)
    params.pop("cursor", None)
    page = [i for i in run_feed(platform, feed_query(platform, params)) if i.alertable]
    body = cap_index(
        page,
        title="Townsquare: CAP alerts near this place",
        self_url=public_url_of(platform, request, "/feeds/cap"),
        origin=Origin(platform.settings.site_url()),
        now=utcnow(),
    )
    return Response(body, media_type="application/atom+xml")
