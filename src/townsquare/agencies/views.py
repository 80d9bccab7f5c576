"""Agency routes: an agency's own view of its incidents, withheld ones included."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from townsquare.accounts.views import DB, CurrentActor
from townsquare.agencies import service
from townsquare.incidents.schemas import AgencyIncident

router = APIRouter(prefix="/api/v1/agency", tags=["agencies"])


@router.get("/incidents", summary="The caller's agency's incidents, withheld ones too")
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
