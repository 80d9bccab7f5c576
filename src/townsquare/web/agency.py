"""The agency portal (file a footage request, see the clips shared with it) and the public
transparency report of footage requests.

The portal is for officers and admins of a verified agency (`AgencyPage`); others see the
page saying so. Pages call the footage and agencies services directly (never the HTTP API);
a refused request is shown in the portal with the rule it broke, the form kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from sqlalchemy.orm import Session

from townsquare.accounts.schemas import Actor
from townsquare.agencies import service as agencies
from townsquare.agencies.schemas import AgencyOut
from townsquare.db import utcnow
from townsquare.errors import TownsquareError
from townsquare.footage import area, service, shares, transparency
from townsquare.footage.schemas import FileRequest, SharedClip
from townsquare.http.deps import DB, Config
from townsquare.settings import Settings
from townsquare.web.kit import (
    Detour,
    PageActor,
    local_value,
    page,
    page_router,
    refusal_shown,
    render,
    see_other,
    sentence,
    status_of,
    text,
    utc_field,
)

router = page_router()


# ---- the agency portal ----------------------------------------------------------------------


@dataclass
class RequestForm:
    """The portal's request form as sent (kept on a refusal)."""

    case_number: str = ""
    reason: str = ""
    lat: str = ""
    lon: str = ""
    radius_m: str = "300"
    polygon: str = ""
    window_start: str = ""
    window_end: str = ""
    expires_at: str = ""
    time_zone: str = ""  # the zone the three times are in; a form without one is UTC

    @classmethod
    def blank(cls, now: datetime, zone: str) -> RequestForm:
        """A new form in the site's zone: an hour ending an hour ago, a week to run."""
        return cls(
            window_start=local_value(now - timedelta(hours=2), zone),
            window_end=local_value(now - timedelta(hours=1), zone),
            expires_at=local_value(now + timedelta(days=7), zone),
            time_zone=zone,
        )

    @classmethod
    def of(cls, form: FormData) -> RequestForm:
        """The fields of a sent form."""
        names = cls.__dataclass_fields__
        return cls(**{name: text(form, name).strip()[:20000] for name in names})

    def body(self) -> FileRequest:
        """The service's request; ValidationError names the field a value does not fit."""
        data: dict[str, Any] = {"case_number": self.case_number, "reason": self.reason}
        if self.polygon:
            try:
                data["polygon"] = json.loads(self.polygon)
            except ValueError:
                data["polygon"] = "not JSON"
        else:
            data["circle"] = {"lat": self.lat, "lon": self.lon, "radius_m": self.radius_m}
        for name in ("window_start", "window_end", "expires_at"):
            moment = utc_field(getattr(self, name), self.time_zone or "UTC")
            data[name] = moment.isoformat() if moment else getattr(self, name)
        return FileRequest.model_validate(data)


@dataclass
class PortalRequest:
    """One of the agency's requests, with the clips it may view now."""

    request: Any
    clips: list[SharedClip] = field(default_factory=list)


def _agency_center(agency: AgencyOut, settings: Settings) -> tuple[float, float]:
    polygons = area.polygons_of(agency.jurisdiction) if agency.jurisdiction else []
    if polygons and polygons[0] and polygons[0][0]:
        return area.centroid(polygons[0][0])
    return settings.map_center


def agency_of(request: Request, session: DB, actor: PageActor) -> AgencyOut:
    """The verified agency the page's visitor works for; others see the page saying why not."""
    try:
        return agencies.out(
            agencies.verified_agency_of(session, actor, "agency_officer", "agency_admin")
        )
    except TownsquareError as exc:
        why = sentence(exc)
        raise Detour(page(request, "footage/agency_only.html", 403, actor=actor, why=why)) from exc


AgencyPage = Annotated[AgencyOut, Depends(agency_of)]


def _portal(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    agency: AgencyOut,
    status: int = 200,
    form: RequestForm | None = None,
    error: str | None = None,
    filed: int = 0,
) -> Response:
    now = utcnow()
    listed = service.agency_page(session, agency.slug, now=now).requests
    found = [
        PortalRequest(r, shares.agency_shares(session, r.id, actor=actor, now=now)) for r in listed
    ]
    return page(
        request,
        "footage/agency.html",
        status,
        actor=actor,
        agency=agency,
        requests=found,
        form=form or RequestForm.blank(now, settings.time_zone),
        error=error,
        filed=filed,
        center=_agency_center(agency, settings),
        jurisdiction=json.dumps(agency.jurisdiction) if agency.jurisdiction else "",
        areas=json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": r.area.geojson, "properties": {"id": r.id}}
                    for r in listed
                    if r.open
                ],
            }
        ),
    )


@router.get("/agency")
async def agency_portal(
    request: Request,
    session: DB,
    settings: Config,
    actor: PageActor,
    agency: AgencyPage,
    filed: int = 0,
) -> Response:
    """File a footage request (area on a map, case, reason, window, expiry); see the agency's
    requests with their counts and the clips shared with them."""
    return _portal(request, session, settings, actor, agency, filed=filed)


@router.post("/agency/requests")
async def file_request(
    request: Request, session: DB, settings: Config, actor: PageActor, agency: AgencyPage
) -> Response:
    """File the request; a bound it breaks is shown with its rule, the form kept."""
    form = RequestForm.of(await request.form())
    with refusal_shown(
        session,
        lambda exc: _portal(
            request, session, settings, actor, agency, status_of(exc), form, sentence(exc)
        ),
    ):
        made = service.file_request(session, settings, form.body(), actor=actor, now=utcnow())
    return see_other(f"/agency?filed={made.id}#request-{made.id}")


# ---- the public transparency report ---------------------------------------------------------


@router.get("/transparency")
def transparency_page(request: Request, session: DB, agency: str = "") -> Response:
    """Footage requests overall or of one agency, with links to the JSON and CSV reports."""
    now = utcnow()
    slug = agency.strip()[:64] or None
    listed = agencies.list_agencies(session)
    try:
        report = transparency.report(session, slug, now=now)
    except TownsquareError:
        report = transparency.report(session, None, now=now)
        return render(
            request,
            "footage/transparency.html",
            404,
            report=report,
            agencies=listed,
            per_agency=[],
            error=f"There is no agency {slug}.",
        )
    filed = {row.agency for row in report.requests}
    per_agency = (
        []
        if slug
        else [
            (a, transparency.report(session, a.slug, now=now).totals)
            for a in listed
            if a.verified or a.slug in filed
        ]
    )
    return render(
        request,
        "footage/transparency.html",
        report=report,
        agencies=listed,
        per_agency=per_agency,
        error=None,
    )
