"""Official updates: an officer of a verified agency publishes an incident of origin 'agency'.

The update goes through the same privacy stage as dispatch records (text scrubbed, address
cut to its block, point snapped to a public cell) and is announced through the outbox like
any incident, so the feed index, live streams and alert matching take it as they take the
others. Its agency corrects or withdraws it; nobody else does.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from townsquare import audit, geo, taxonomy
from townsquare.accounts.schemas import Actor
from townsquare.agencies import jurisdiction
from townsquare.agencies.models import Agency
from townsquare.agencies.schemas import UpdateCorrection, UpdateIn
from townsquare.agencies.service import verified_agency_of
from townsquare.errors import InvalidParameter, NotFound
from townsquare.incidents import publish
from townsquare.incidents import service as incidents
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import IncidentPublic
from townsquare.privacy import engine as privacy
from townsquare.privacy.gate import decide, withheld_reasons
from townsquare.privacy.policy import default_policy

ORIGINAL_TYPE = "official update"
FUTURE_SLACK = timedelta(minutes=5)
WITHDRAWN = "withdrawn by the agency"


def _officer(session: Session, actor: Actor) -> Agency:
    return verified_agency_of(session, actor, "agency_officer", "agency_admin")


def _check(
    agency: Agency, category: str, lat: float, lon: float, at: datetime, now: datetime
) -> None:
    if category not in taxonomy.categories():
        raise InvalidParameter("category", f"unknown category code {category!r}")
    reasons = withheld_reasons(default_policy(), taxonomy.get(category), ORIGINAL_TYPE)
    if reasons:  # an official update is public by nature: it cannot be of a withheld kind
        raise InvalidParameter("category", f"{reasons[0]}; official updates are public")
    if at > now + FUTURE_SLACK:
        raise InvalidParameter("occurred_at", "an update cannot happen in the future")
    if agency.jurisdiction and not jurisdiction.contains(agency.jurisdiction, lat, lon):
        raise InvalidParameter("lat", f"the place is outside {agency.name}'s jurisdiction")


def _public_form(
    *,
    category: str,
    title: str,
    summary: str,
    address: str | None,
    lat: float,
    lon: float,
    occurred_at: datetime,
    closed_at: datetime | None = None,
) -> publish.PublicForm:
    """The public form of an update's content: every value through the privacy stage."""
    policy = default_policy()
    return publish.PublicForm(
        category=category,
        original_type=ORIGINAL_TYPE,
        title=privacy.public_text(title.strip(), policy),
        summary=privacy.public_text(summary.strip(), policy),
        address_block=privacy.public_address(address, policy) if address else None,
        point=privacy.public_point(geo.Point(lat, lon), policy),
        occurred_at=occurred_at,
        closed_at=closed_at,
    )


def _alerting(form: publish.PublicForm, now: datetime) -> tuple[bool, tuple[str, ...]]:
    """Whether the gate alerts an update of this form now, and why (it is public by nature)."""
    kind = taxonomy.get(form.category)
    decision = decide(default_policy(), kind, ORIGINAL_TYPE, form.occurred_at, now, kind.severity)
    return decision.alertable, decision.alertable_reasons


def post_update(session: Session, body: UpdateIn, *, actor: Actor, now: datetime) -> IncidentPublic:
    """Publish an official update of the caller's agency in the feed, labelled 'agency'."""
    agency = _officer(session, actor)
    _check(agency, body.category, body.lat, body.lon, body.occurred_at, now)
    identity = publish.Identity("agency", f"update-{secrets.token_hex(8)}", agency_id=agency.id)
    form = _public_form(
        category=body.category,
        title=body.title,
        summary=body.summary,
        address=body.address,
        lat=body.lat,
        lon=body.lon,
        occurred_at=body.occurred_at,
    )
    alertable, reasons = _alerting(form, now)
    standing = publish.Standing("public", (), alertable, reasons)
    incident = publish.create(session, identity, form, standing, now=now)
    _audit(session, actor, "agency_update.post", incident, agency)
    session.commit()
    return incidents.get_public(session, incident.id)


def _own_update(session: Session, incident_id: int, agency: Agency) -> Incident:
    incident = session.get(Incident, incident_id)
    if (
        incident is None
        or incident.origin != "agency"
        or incident.agency_id != agency.id
        or incident.visibility != "public"
    ):
        raise NotFound(f"no update {incident_id} of {agency.slug}")
    return incident


def correct_update(
    session: Session, incident_id: int, body: UpdateCorrection, *, actor: Actor, now: datetime
) -> IncidentPublic:
    """Replace the fields given of one of the agency's updates, or close it."""
    agency = _officer(session, actor)
    incident = _own_update(session, incident_id, agency)
    category = body.category or incident.category
    lat = body.lat if body.lat is not None else incident.lat
    lon = body.lon if body.lon is not None else incident.lon
    occurred_at = body.occurred_at or incident.occurred_at
    _check(agency, category, lat, lon, occurred_at, now)
    closed_at = incident.closed_at
    if body.status == "closed" and closed_at is None:
        closed_at = now
    elif body.status == "active":
        closed_at = None
    # Stored text is already scrubbed; scrubbing it again changes nothing.
    form = _public_form(
        category=category,
        title=body.title if body.title is not None else incident.title,
        summary=body.summary if body.summary is not None else incident.summary,
        address=body.address if body.address is not None else incident.address_block,
        lat=lat,
        lon=lon,
        occurred_at=occurred_at,
        closed_at=closed_at,
    )
    alertable, reasons = _alerting(form, now)
    standing = replace(
        publish.standing_of(incident), alertable=alertable, alertable_reasons=reasons
    )
    publish.revise(session, incident, form, standing, now=now)
    _audit(session, actor, "agency_update.correct", incident, agency)
    session.commit()
    return incidents.get_public(session, incident.id)


def withdraw_update(session: Session, incident_id: int, *, actor: Actor, now: datetime) -> None:
    """Take one of the agency's updates out of the feed (streams and alerts cancel it)."""
    agency = _officer(session, actor)
    incident = _own_update(session, incident_id, agency)
    # Its alert flag stays, as before: a curator who publishes it again brings it back.
    publish.remove(session, incident, WITHDRAWN, now=now, keep_alertable=True)
    _audit(session, actor, "agency_update.withdraw", incident, agency)
    session.commit()


def _audit(session: Session, actor: Actor, action: str, incident: Incident, agency: Agency) -> None:
    audit.record_row(
        session,
        incident,
        actor_id=actor.account_id,
        action=action,
        detail={"agency": agency.slug},
    )
