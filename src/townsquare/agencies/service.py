"""Agency accounts: operators register and verify agencies; agency admins manage officers.

Every action here commits once and writes one audit entry. An agency does nothing on the
platform (no officers added, no keys, no updates, no footage requests) until an operator,
signed in with two-factor, has verified it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import grants
from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.agencies import jurisdiction
from townsquare.agencies.models import Agency
from townsquare.agencies.schemas import AgencyIn, AgencyOut, Member
from townsquare.errors import Conflict, Forbidden, InvalidParameter, NotFound
from townsquare.incidents import service as incidents
from townsquare.incidents.schemas import AgencyIncident

Visibility = Literal["public", "withheld", "removed"]


def agency_of(session: Session, actor: Actor) -> int:
    """The caller's agency; only its officers and admins (signed in with TOTP) have one."""
    if not (actor.has("agency_officer") or actor.has("agency_admin")):
        raise Forbidden("agency officers only (signed in with two-factor)")
    agency_id = session.get_one(Account, actor.account_id).agency_id
    if agency_id is None:
        raise Forbidden("this account belongs to no agency")
    return agency_id


def verified_agency_of(session: Session, actor: Actor, *roles: str) -> Agency:
    """The caller's agency when it is verified and the caller has one of `roles` there."""
    if not any(actor.has(role) for role in roles):
        raise Forbidden(f"{' or '.join(roles)} only (signed in with two-factor)")
    agency = session.get_one(Agency, agency_of(session, actor))
    if agency.verified_at is None:
        raise Forbidden(f"agency {agency.slug} is not verified by an operator yet")
    return agency


def own_incidents(
    session: Session,
    *,
    actor: Actor,
    visibility: Visibility | None,
    before_id: int | None,
    limit: int,
) -> list[AgencyIncident]:
    """The agency's incidents as stored (redacted), withheld ones with the rule that held them."""
    return incidents.of_agency(session, agency_of(session, actor), visibility, before_id, limit)


def _operator(actor: Actor) -> None:
    if not actor.has("operator"):
        raise Forbidden("operators only (signed in with two-factor)")


def out(agency: Agency) -> AgencyOut:
    """An agency's public description."""
    area = json.loads(agency.jurisdiction) if agency.jurisdiction else None
    return AgencyOut(
        slug=agency.slug,
        name=agency.name,
        time_zone=agency.time_zone,
        jurisdiction=area,
        verified=agency.verified_at is not None,
        verified_at=agency.verified_at,
    )


def by_slug(session: Session, slug: str) -> Agency:
    """The agency with this slug; NotFound otherwise."""
    agency = session.scalar(select(Agency).where(Agency.slug == slug))
    if agency is None:
        raise NotFound(f"agency {slug} not found")
    return agency


def list_agencies(session: Session) -> list[AgencyOut]:
    """Every agency, verified or not, by name: anyone may see who publishes what."""
    return [out(a) for a in session.scalars(select(Agency).order_by(Agency.name, Agency.id))]


def create_agency(session: Session, body: AgencyIn, *, actor: Actor) -> AgencyOut:
    """Register an agency (unverified). An agency a feed registered without an area is completed."""
    _operator(actor)
    area = jurisdiction.normalized(body.jurisdiction)
    agency = session.scalar(select(Agency).where(Agency.slug == body.slug))
    completed = agency is not None
    if agency is None:
        agency = Agency(slug=body.slug, name=body.name, time_zone=body.time_zone)
        session.add(agency)
    elif agency.jurisdiction is not None:
        raise Conflict(f"agency {body.slug} exists")
    agency.name, agency.time_zone, agency.jurisdiction = body.name, body.time_zone, area
    session.flush()
    audit.record_row(
        session,
        agency,
        actor_id=actor.account_id,
        action="agency.create",
        detail={"slug": agency.slug, "completed_feed_agency": completed},
    )
    session.commit()
    return out(agency)


def verify_agency(session: Session, slug: str, *, actor: Actor, now: datetime) -> AgencyOut:
    """Mark an agency verified: an operator checked it is the agency it says it is."""
    _operator(actor)
    agency = by_slug(session, slug)
    if agency.jurisdiction is None:
        raise Conflict(f"agency {slug} has no jurisdiction yet: register it first")
    if agency.verified_at is None:
        agency.verified_at = now
        audit.record_row(
            session,
            agency,
            actor_id=actor.account_id,
            action="agency.verify",
            detail={"slug": slug},
        )
        session.commit()
    return out(agency)


def _verified_account(session: Session, email: str) -> Account:
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or account.email_verified_at is None:
        raise NotFound(f"no account with a verified address {email}")
    return account


def appoint_admin(session: Session, slug: str, email: str, *, actor: Actor) -> Member:
    """An operator makes an existing, verified account an admin of a verified agency."""
    _operator(actor)
    agency = by_slug(session, slug)
    if agency.verified_at is None:
        raise Conflict(f"agency {slug} is not verified yet")
    account = _verified_account(session, email)
    grants.grant_role(
        session, account.email, "agency_admin", actor_id=actor.account_id, agency=slug
    )
    return _member(account)


def _member(account: Account) -> Member:
    return Member(
        account_id=account.id,
        email=account.email,
        display_name=account.display_name,
        roles=sorted(r for r in account.roles if r in grants.AGENCY_ROLES),
    )


def members(session: Session, *, actor: Actor) -> list[Member]:
    """The officers and admins of the caller's agency (its admins only)."""
    agency = verified_agency_of(session, actor, "agency_admin")
    rows = session.scalars(
        select(Account).where(Account.agency_id == agency.id).order_by(Account.email)
    )
    return [_member(a) for a in rows]


def add_officer(session: Session, email: str, *, actor: Actor) -> Member:
    """An admin makes an existing, verified account an officer of their own agency."""
    agency = verified_agency_of(session, actor, "agency_admin")
    account = _verified_account(session, email)
    grants.grant_role(
        session, account.email, "agency_officer", actor_id=actor.account_id, agency=agency.slug
    )
    return _member(account)


def remove_officer(session: Session, account_id: int, *, actor: Actor) -> None:
    """An admin takes the officer role from a member of their own agency."""
    agency = verified_agency_of(session, actor, "agency_admin")
    account = session.get(Account, account_id)
    if account is None or account.agency_id != agency.id:
        raise NotFound(f"no officer {account_id} in {agency.slug}")
    if "agency_officer" not in account.roles:
        raise InvalidParameter("account_id", "this member is not an officer")
    grants.revoke_role(
        session, account.email, "agency_officer", actor_id=actor.account_id, agency=agency.slug
    )
