"""The operator's agencies page: every agency with its status, and verifying one with its
jurisdiction uploaded as a GeoJSON file or drawn on the map (staff.js writes the drawing into
the form as GeoJSON text; without JavaScript the text can be pasted).

The area is checked by `agencies.jurisdiction` (the API's rules); a refusal is shown on the
form in words. An agency a feed registered without an area is completed with it
(`create_agency`), then verified (`verify_agency`): each is one audited action.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from townsquare.agencies import jurisdiction, service
from townsquare.agencies.schemas import AgencyIn
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, NotFound
from townsquare.http.deps import DB
from townsquare.web.kit import (
    Refused,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
)
from townsquare.web.operator import OperatorPage

router = page_router()
MAX_FILE_BYTES = 2_000_000  # a county boundary at 2,000 vertices is well under this


@router.get("/operator/agencies")
async def agencies_page(
    request: Request, session: DB, actor: OperatorPage, verified: str = ""
) -> Response:
    """Every agency by name: verified (when), or waiting for an operator (and why)."""
    agencies = service.list_agencies(session)
    done = next((a for a in agencies if a.slug == verified and a.verified), None)
    return page(request, "operator/agencies.html", actor=actor, agencies=agencies, done=done)


def _agency_page(
    request: Request, session: DB, actor: OperatorPage, slug: str, status: int = 200, **extra: Any
) -> Response:
    try:
        agency = service.out(service.by_slug(session, slug))
    except NotFound:
        return page(request, "operator/agency.html", 404, actor=actor, agency=None, slug=slug)
    shape = json.dumps(agency.jurisdiction) if agency.jurisdiction else ""
    return page(
        request, "operator/agency.html", status, actor=actor, agency=agency, shape=shape, **extra
    )


@router.get("/operator/agencies/{slug}")
async def agency_page(request: Request, slug: str, session: DB, actor: OperatorPage) -> Response:
    """One agency: its area on the map, and the form verifying it."""
    return _agency_page(request, session, actor, slug)


async def area_of(form: FormData) -> dict[str, Any] | None:
    """The jurisdiction sent: the uploaded file, else the drawn (or pasted) GeoJSON text; None
    when neither. A FeatureCollection of one feature is that feature."""
    upload = form.get("jurisdiction_file")
    raw = ""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise InvalidParameter("file", f"the file is larger than {MAX_FILE_BYTES:,} bytes")
        raw = data.decode("utf-8", errors="replace")
    else:
        drawn = form.get("jurisdiction")
        raw = drawn if isinstance(drawn, str) else ""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidParameter("jurisdiction", f"the GeoJSON is not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InvalidParameter("jurisdiction", "the GeoJSON must be an object")
    if value.get("type") == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise InvalidParameter(
                "jurisdiction", "a FeatureCollection must hold exactly one feature, the area"
            )
        value = features[0] if isinstance(features[0], dict) else {}
    try:
        jurisdiction.parse(value)
    except ValueError as exc:
        raise InvalidParameter("jurisdiction", f"the area is not usable: {exc}") from None
    return value


@router.post("/operator/agencies/{slug}/verify")
async def verify(request: Request, slug: str, session: DB, actor: OperatorPage) -> Response:
    """Verify the agency, with the area sent (an agency without one needs it)."""
    form = await request.form()

    def refused(exc: Refused) -> Response:
        return _agency_page(request, session, actor, slug, status_of(exc), error=sentence(exc))

    with refusal_shown(session, refused):
        area = await area_of(form)
        agency = service.by_slug(session, slug)
        if area is not None and agency.jurisdiction is not None:
            raise InvalidParameter(
                "jurisdiction", "this agency already has its area: verify it as registered"
            )
        if area is None and agency.jurisdiction is None:
            raise InvalidParameter(
                "jurisdiction", "upload a GeoJSON file or draw the area on the map first"
            )
        if area is not None:
            body = AgencyIn(
                slug=agency.slug, name=agency.name, time_zone=agency.time_zone, jurisdiction=area
            )
            service.create_agency(session, body, actor=actor)
        service.verify_agency(session, slug, actor=actor, now=utcnow())
    return see_other(f"/operator/agencies?verified={slug}#agency-{slug}")
