"""CAP 1.2 routes: one incident's CAP message and the Atom index of an area's CAP alerts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from townsquare.db import utcnow
from townsquare.formats.cap import CAP_MEDIA_TYPE, Origin, cap_index
from townsquare.formats.service import cap_message
from townsquare.http.deps import platform_of
from townsquare.http.feed import AreaQuery, last_modified, public_url_of, run_feed

router = APIRouter(tags=["feeds"])


@router.get("/feeds/cap/{incident_id}.xml", summary="One incident as a CAP 1.2 message")
def cap_document(request: Request, incident_id: int) -> Response:
    """GET the current CAP message (Alert, Update or Cancel) of an incident."""
    platform = platform_of(request)
    with platform.factory() as session:
        body = cap_message(session, incident_id, Origin(platform.settings.site_url()))
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.get("/feeds/cap", summary="Atom index of the CAP alerts of an area")
def cap_feed(request: Request, query: AreaQuery) -> Response:
    """GET the newest alertable incidents of an area, each linking to its CAP message."""
    platform = platform_of(request)
    page = [i for i in run_feed(platform, query) if i.alertable]
    body = cap_index(
        page,
        title="Townsquare: CAP alerts near this place",
        self_url=public_url_of(platform, request, "/feeds/cap"),
        origin=Origin(platform.settings.site_url()),
        now=utcnow(),
    )
    return Response(body, media_type="application/atom+xml", headers=last_modified(page))
