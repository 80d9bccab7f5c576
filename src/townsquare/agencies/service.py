"""What an agency's officers may read of their own agency: its withheld incidents above all."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.errors import Forbidden
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
