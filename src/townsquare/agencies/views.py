"""Agency routes: agencies (operators), members and push keys (admins), updates (officers).

`/api/v1/agencies` is the registry anyone reads and operators write; `/api/v1/agency` is the
caller's own agency, for its officers and admins signed in with two-factor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from townsquare.agencies import push_keys, service, updates
from townsquare.agencies.schemas import (
    AgencyIn,
    AgencyOut,
    EmailIn,
    KeyMade,
    Member,
    PushSourceOut,
    UpdateCorrection,
    UpdateIn,
)
from townsquare.db import utcnow
from townsquare.http.deps import DB, CurrentActor
from townsquare.incidents.schemas import AgencyIncident, IncidentPublic

router = APIRouter(tags=["agencies"])
OWN = "/api/v1/agency"


@router.get("/api/v1/agencies", summary="Every agency and whether it is verified")
def list_agencies(session: DB) -> list[AgencyOut]:
    """Anyone may see which agencies are on the platform and the areas they serve."""
    return service.list_agencies(session)


@router.get("/api/v1/agencies/{slug}", summary="One agency")
def get_agency(slug: str, session: DB) -> AgencyOut:
    """An agency's name, time zone, jurisdiction and verification."""
    return service.out(service.by_slug(session, slug))


@router.post("/api/v1/agencies", status_code=201, summary="Register an agency (operators)")
def create_agency(body: AgencyIn, actor: CurrentActor, session: DB) -> AgencyOut:
    """Unverified until `verify`; 409 if the slug is taken by a registered agency."""
    return service.create_agency(session, body, actor=actor)


@router.post("/api/v1/agencies/{slug}/verify", summary="Verify an agency (operators)")
def verify_agency(slug: str, actor: CurrentActor, session: DB) -> AgencyOut:
    """The operator checked the agency is who it says; its members may act from now on."""
    return service.verify_agency(session, slug, actor=actor, now=utcnow())


@router.post("/api/v1/agencies/{slug}/admins", status_code=201, summary="Appoint an agency admin")
def appoint_admin(slug: str, body: EmailIn, actor: CurrentActor, session: DB) -> Member:
    """Operators make an existing, verified account an admin of a verified agency."""
    return service.appoint_admin(session, slug, body.email, actor=actor)


@router.get(f"{OWN}/incidents", summary="The caller's agency's incidents, withheld ones too")
def own_incidents(
    actor: CurrentActor,
    session: DB,
    visibility: service.Visibility | None = None,
    before_id: Annotated[int | None, Query(description="Page: ids below this one")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AgencyIncident]:
    """Withheld incidents never reach the public feed; their agency's officers see them here."""
    return service.own_incidents(
        session, actor=actor, visibility=visibility, before_id=before_id, limit=limit
    )


@router.get(f"{OWN}/members", summary="Officers and admins of the caller's agency")
def members(actor: CurrentActor, session: DB) -> list[Member]:
    """Admins only."""
    return service.members(session, actor=actor)


@router.post(f"{OWN}/officers", status_code=201, summary="Add an officer to the agency")
def add_officer(body: EmailIn, actor: CurrentActor, session: DB) -> Member:
    """Admins add an existing account with a verified address; 409 if it is another agency's."""
    return service.add_officer(session, body.email, actor=actor)


@router.delete(f"{OWN}/officers/{{account_id}}", status_code=204, summary="Remove an officer")
def remove_officer(account_id: int, actor: CurrentActor, session: DB) -> None:
    """Admins take the officer role back; it stops applying at once."""
    service.remove_officer(session, account_id, actor=actor)


@router.get(f"{OWN}/sources", summary="The agency's push sources and their keys' state")
def push_sources(actor: CurrentActor, session: DB) -> list[PushSourceOut]:
    """Admins only; a key is never shown again after its rotation."""
    return push_keys.push_sources(session, actor=actor)


@router.post(f"{OWN}/sources/{{slug}}/key", status_code=201, summary="Rotate a push source's key")
def rotate_key(slug: str, actor: CurrentActor, session: DB) -> KeyMade:
    """A new API key and HMAC secret, shown once; every earlier key stops at once."""
    return push_keys.rotate_key(session, slug, actor=actor, now=utcnow())


@router.delete(f"{OWN}/sources/{{slug}}/key", status_code=204, summary="Stop a source's key")
def revoke_key(slug: str, actor: CurrentActor, session: DB) -> None:
    """Nothing is accepted from the source until the next rotation (a leaked key)."""
    push_keys.revoke_key(session, slug, actor=actor, now=utcnow())


@router.post(f"{OWN}/updates", status_code=201, summary="Publish an official update")
def post_update(body: UpdateIn, actor: CurrentActor, session: DB) -> IncidentPublic:
    """Officers of a verified agency; it appears in the feed labelled 'agency'."""
    return updates.post_update(session, body, actor=actor, now=utcnow())


@router.patch(f"{OWN}/updates/{{incident_id}}", summary="Correct or close an official update")
def correct_update(
    incident_id: int, body: UpdateCorrection, actor: CurrentActor, session: DB
) -> IncidentPublic:
    """The fields given replace the update's; `status: closed` takes it out of the live feed."""
    return updates.correct_update(session, incident_id, body, actor=actor, now=utcnow())


@router.delete(f"{OWN}/updates/{{incident_id}}", status_code=204, summary="Withdraw an update")
def withdraw_update(incident_id: int, actor: CurrentActor, session: DB) -> None:
    """The update leaves the feed; live streams and alerts are told it was removed."""
    updates.withdraw_update(session, incident_id, actor=actor, now=utcnow())
