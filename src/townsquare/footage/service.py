"""Footage requests: filed by a verified agency within bounds, public in full, residents told.

Filing is one transaction: the request, its feed item, one private notice per resident with a
camera in the area, the audit entry and the feed event. The e-mails go after the commit, so a
request that failed is never mailed. The agency learns how many residents were told, never who.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare import audit, geo, mail, taxonomy
from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.agencies.models import Agency
from townsquare.agencies.service import verified_agency_of
from townsquare.errors import NotFound, TooManyRequests
from townsquare.footage import area, rules
from townsquare.footage.models import Camera, FootageRequest, Notice
from townsquare.footage.schemas import AgencyPage, AreaOut, FileRequest, RequestPublic
from townsquare.i18n import N_, speaking
from townsquare.i18n import gettext as _
from townsquare.incidents import publish
from townsquare.incidents.models import Incident
from townsquare.privacy.engine import public_text
from townsquare.privacy.policy import default_policy
from townsquare.settings import Settings

log = logging.getLogger(__name__)
CATEGORY = "agency.footage_request"
RATE_WINDOW = timedelta(days=1)
NOT_ALERTED = "not alerted: footage requests reach camera owners by e-mail"
MAIL_SUBJECT = N_("An agency asks for camera footage near you")
MAIL_BODY = N_("""{agency} asks residents with cameras in an area that includes your camera
"{camera}" for recordings from {start} to {end} (UTC).

Case {case}: {reason}

Nothing is shared unless you choose clips to share. The agency does not learn that you were
asked, nor whether you answer; it sees only how many residents were asked and how many clips
were shared. You may revoke a share at any time. The request is open until {expires} (UTC).

Your requests: {site}/footage
""")


def _area_out(row: FootageRequest) -> AreaOut:
    ring = [[lon, lat] for lon, lat in row.ring]
    return AreaOut(
        kind="circle" if row.area_kind == "circle" else "polygon",
        center_lat=row.center_lat,
        center_lon=row.center_lon,
        radius_m=row.radius_m,
        geojson={"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        square_miles=round(row.area_m2 / area.SQUARE_MILE_M2, 4),
    )


def public_of(row: FootageRequest, agency: Agency, now: datetime) -> RequestPublic:
    """A request as anyone sees it."""
    return RequestPublic(
        id=row.id,
        agency=agency.slug,
        agency_name=agency.name,
        case_number=row.case_number,
        # Scrubbed when filed; again here (idempotent) so rows filed under older rules
        # leave with today's.
        reason=public_text(row.reason, default_policy()),
        area=_area_out(row),
        window_start=row.window_start,
        window_end=row.window_end,
        filed_at=row.filed_at,
        expires_at=row.expires_at,
        open=row.expires_at > now,
        incident_id=row.incident_id,
        residents_notified=row.residents_notified,
        clips_shared=row.clips_shared,
        clips_revoked=row.clips_revoked,
    )


def cameras_in(session: Session, row: FootageRequest) -> list[Camera]:
    """Cameras whose exact point lies in the request's area (box in SQL, exact test here)."""
    lons = [p[0] for p in row.ring]
    lats = [p[1] for p in row.ring]
    boxed = session.scalars(
        select(Camera).where(
            Camera.lat.between(min(lats), max(lats)), Camera.lon.between(min(lons), max(lons))
        )
    )
    if row.radius_m is not None:
        radius = row.radius_m
        return [
            c
            for c in boxed
            if geo.haversine_m(row.center_lat, row.center_lon, c.lat, c.lon) <= radius
        ]
    ring: area.Ring = [(p[0], p[1]) for p in row.ring]
    return [c for c in boxed if area.in_polygon(c.lon, c.lat, [ring])]


def _feed_item(session: Session, row: FootageRequest, agency: Agency, now: datetime) -> Incident:
    """The request's public item in the feed, at its area's coarse centre; never alerted."""
    category = taxonomy.get(CATEGORY)
    span = f"{row.window_start:%Y-%m-%d %H:%M} to {row.window_end:%Y-%m-%d %H:%M} UTC"
    summary = (
        f"Case {row.case_number}. {row.reason} Recordings from {span}. "
        f"Residents choose whether to share; open until {row.expires_at:%Y-%m-%d %H:%M} UTC."
    )
    form = publish.PublicForm(
        category=CATEGORY,
        original_type=category.label,
        title=f"{category.label}: {agency.name}",
        summary=summary,
        address_block=None,
        point=geo.coarsen(geo.Point(row.center_lat, row.center_lon)),
        occurred_at=now,
    )
    identity = publish.Identity("agency", f"footage-request-{row.id}", agency_id=agency.id)
    standing = publish.Standing("public", (), False, (NOT_ALERTED,))
    return publish.create(session, identity, form, standing, now=now)


def close_expired(session: Session, *, now: datetime) -> int:
    """Close the feed items of requests that expired; the caller's transaction commits."""
    expired = session.execute(
        select(Incident, FootageRequest.expires_at)
        .join(FootageRequest, FootageRequest.incident_id == Incident.id)
        .where(FootageRequest.expires_at <= now, Incident.status == "active")
        .order_by(Incident.id)
    ).all()
    for incident, expires_at in expired:
        # Closed when the request ran out, even if the job ran late (e.g. the server was down).
        publish.close(session, incident, at=expires_at, now=now)
    return len(expired)


def _notify(session: Session, row: FootageRequest, now: datetime) -> list[Notice]:
    by_owner: dict[int, list[int]] = defaultdict(list)
    for camera in cameras_in(session, row):
        by_owner[camera.owner_id].append(camera.id)
    notices = [
        Notice(request_id=row.id, account_id=owner, camera_ids=sorted(ids), notified_at=now)
        for owner, ids in sorted(by_owner.items())
    ]
    session.add_all(notices)
    row.residents_notified = len(notices)
    return notices


def file_request(
    session: Session, settings: Settings, body: FileRequest, *, actor: Actor, now: datetime
) -> RequestPublic:
    """File a request for a verified agency's officer; every bound is checked first."""
    agency = verified_agency_of(session, actor, "agency_officer", "agency_admin")
    recent = session.scalar(
        select(func.count()).where(
            FootageRequest.agency_id == agency.id, FootageRequest.filed_at > now - RATE_WINDOW
        )
    )
    if (recent or 0) >= settings.footage_requests_per_day:
        raise TooManyRequests(
            f"an agency may file {settings.footage_requests_per_day} footage requests a day"
        )
    checked = rules.check_request(body, agency.jurisdiction, now)
    row = FootageRequest(
        agency_id=agency.id,
        officer_id=actor.account_id,
        case_number=body.case_number.strip(),
        reason=public_text(body.reason.strip(), default_policy()),
        area_kind=checked.kind,
        center_lat=checked.center_lat,
        center_lon=checked.center_lon,
        radius_m=checked.radius_m,
        ring=[[lon, lat] for lon, lat in checked.ring],
        area_m2=checked.area_m2,
        window_start=body.window_start,
        window_end=body.window_end,
        filed_at=now,
        expires_at=body.expires_at,
        clips_shared=0,
        clips_revoked=0,
    )
    session.add(row)
    session.flush()
    row.incident_id = _feed_item(session, row, agency, now).id
    notices = _notify(session, row, now)
    audit.record_row(
        session,
        row,
        actor_id=actor.account_id,
        action="footage.request",
        detail={"agency": agency.slug, "residents_notified": len(notices)},
    )
    session.commit()
    mail_notices(session, settings, row, agency, [n.id for n in notices], now)
    return public_of(row, agency, now)


def mail_notices(
    session: Session,
    settings: Settings,
    row: FootageRequest,
    agency: Agency,
    notice_ids: list[int],
    now: datetime,
) -> int:
    """E-mail each notified resident (after the filing's commit); returns how many were sent."""
    sent = 0
    for notice_id in notice_ids:
        notice = session.get_one(Notice, notice_id)
        account = session.get_one(Account, notice.account_id)
        camera = session.get_one(Camera, notice.camera_ids[0])
        with speaking(account.language or "en"):  # the resident's, not the agency's
            subject = _(MAIL_SUBJECT)
            body = _(MAIL_BODY).format(
                agency=agency.name,
                camera=camera.name,
                start=f"{row.window_start:%Y-%m-%d %H:%M}",
                end=f"{row.window_end:%Y-%m-%d %H:%M}",
                case=row.case_number,
                reason=row.reason,
                expires=f"{row.expires_at:%Y-%m-%d %H:%M}",
                site=settings.site_url(),
            )
        try:
            mail.send(settings, mail.plain(account.email, subject, body), purpose="account")
        except mail.SEND_ERRORS:
            log.exception("footage request mail failed", extra={"request": row.id})
            continue
        notice.mailed_at = now
        sent += 1
    session.commit()
    return sent


def agency_page(session: Session, slug: str, *, now: datetime) -> AgencyPage:
    """An agency's public page: whether it is verified, and every footage request it filed."""
    agency = session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None:
        raise NotFound(f"no agency {slug}")
    rows = session.scalars(
        select(FootageRequest)
        .where(FootageRequest.agency_id == agency.id)
        .order_by(FootageRequest.filed_at.desc(), FootageRequest.id.desc())
    )
    return AgencyPage(
        slug=agency.slug,
        name=agency.name,
        verified=agency.verified_at is not None,
        verified_at=agency.verified_at,
        requests=[public_of(r, agency, now) for r in rows],
    )


def get_request(session: Session, request_id: int, *, now: datetime) -> RequestPublic:
    """One request as anyone sees it."""
    row = session.get(FootageRequest, request_id)
    if row is None:
        raise NotFound(f"footage request {request_id} not found")
    return public_of(row, session.get_one(Agency, row.agency_id), now)
