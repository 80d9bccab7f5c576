"""GeoReport actions and queries: discovery, reading public incidents as service requests,
and posting a resident's report through `posts.service.submit_post`.

Reads go through `incidents.service.publish_all`, so a request carries only what the public
feed carries. A POST is a resident's post like any other: the api_key is one of the
resident's personal API tokens, every guideline applies and the post waits for moderation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from townsquare import taxonomy
from townsquare.errors import InvalidParameter, NotFound
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import IncidentPublic, parse_time
from townsquare.incidents.service import publish_all
from townsquare.open311.catalog import CHANGESET
from townsquare.open311.schemas import Discovery, Endpoint, ServiceRequest
from townsquare.settings import Settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
STATUS = {"open": "active", "closed": "closed"}


def discovery(settings: Settings) -> Discovery:
    """The discovery document: one production endpoint, XML and JSON."""
    site = settings.site_url()
    return Discovery(
        changeset=CHANGESET,
        contact=f"See {site}/ for the operator of this Townsquare deployment.",
        key_service=(
            "The api_key is a resident's personal API token: sign in, then POST "
            f"{site}/api/v1/account/tokens (see docs/open311.md)."
        ),
        endpoints=[
            Endpoint(
                specification=SPECIFICATION,
                url=f"{site}/open311/v2",
                changeset=CHANGESET,
                type="production",
                formats=FORMATS,
            )
        ],
    )


def w3(moment: datetime) -> str:
    """A W3C date-time in UTC with 'Z', whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def request_id(incident: Incident) -> str:
    """A resident post is known by 'post-N' (what its POST answered); others by their id."""
    external = incident.external_id or ""
    if incident.origin == "resident" and external.startswith("post-"):
        return external
    return str(incident.id)


def to_request(rid: str, public: IncidentPublic) -> ServiceRequest:
    """The GeoReport form of a public incident."""
    closed = public.status == "closed"
    return ServiceRequest(
        service_request_id=rid,
        status="closed" if closed else "open",
        status_notes=public.provenance,
        service_name=public.category_label,
        service_code=public.category,
        description=public.summary or public.title,
        agency_responsible=public.agency,
        service_notice=None,
        requested_datetime=w3(public.occurred_at),
        updated_datetime=w3(public.closed_at if closed and public.closed_at else public.updated_at),
        address=public.address_block,
        point=public.point,
    )


def _requests(session: Session, rows: Sequence[Incident]) -> list[ServiceRequest]:
    return [
        to_request(request_id(row), public)
        for row, public in zip(rows, publish_all(session, rows), strict=True)
    ]


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """A parsed GET requests query."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def parse_query(params: dict[str, str], now: datetime) -> RequestQuery:
    """Validate the filters; the default window is the last 90 days, at most 90 days long."""
    ids = _listed(params.get("service_request_id"))
    for rid in ids:
        if _id_condition(rid) is None:
            raise InvalidParameter("service_request_id", f"{rid!r} is not a request id")
    codes = _listed(params.get("service_code"))
    if unknown := [c for c in codes if c not in taxonomy.categories()]:
        raise InvalidParameter("service_code", f"unknown service_code {', '.join(unknown)}")
    statuses = _listed(params.get("status"))
    if bad := [s for s in statuses if s not in STATUS]:
        raise InvalidParameter("status", f"{', '.join(bad)}: status is open or closed")
    start = parse_time("start_date", params.get("start_date"))
    end = parse_time("end_date", params.get("end_date"))
    if start is None and end is None:
        end = now
    if start is None:
        start = end - WINDOW if end is not None else now - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise InvalidParameter("end_date", "end_date is before start_date")
    if end - start > WINDOW:
        raise InvalidParameter("start_date", "the date range may not span more than 90 days")
    return RequestQuery(ids, codes, start, end, statuses)


def _id_condition(rid: str) -> ColumnElement[bool] | None:
    if rid.startswith("post-") and rid[5:].isdecimal() and len(rid) < 24:
        return (Incident.origin == "resident") & (Incident.external_id == rid)
    if rid.isdecimal() and len(rid) < 19:
        return Incident.id == int(rid)
    return None


def find_requests(session: Session, query: RequestQuery) -> list[ServiceRequest]:
    """Public incidents as requests, newest first, at most 1000; ids override other filters."""
    stmt = select(Incident).where(Incident.visibility == "public")
    if query.ids:
        found: list[Incident] = []
        for rid in dict.fromkeys(query.ids):
            condition = _id_condition(rid)
            row = session.scalars(stmt.where(condition)).first() if condition is not None else None
            if row is not None:
                found.append(row)
        return _requests(session, found[:MAX_REQUESTS])
    if query.codes:
        stmt = stmt.where(Incident.category.in_(query.codes))
    if query.statuses:
        stmt = stmt.where(Incident.status.in_([STATUS[s] for s in query.statuses]))
    if query.start is not None:
        stmt = stmt.where(Incident.occurred_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(Incident.occurred_at <= query.end)
    stmt = stmt.order_by(Incident.occurred_at.desc(), Incident.id.desc()).limit(MAX_REQUESTS)
    return _requests(session, session.scalars(stmt).all())


def get_request(session: Session, rid: str) -> ServiceRequest:
    """One public request; anything not public is as if absent."""
    found = [] if _id_condition(rid) is None else find_requests(session, RequestQuery(ids=(rid,)))
    if not found:
        raise NotFound(f"service request {rid!r} not found")
    return found[0]
