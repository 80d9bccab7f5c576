"""Readers' feedback route: mark an alert "not useful" or "inaccurate", with or without account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from townsquare.accounts.schemas import Actor
from townsquare.accounts.security import server_secret
from townsquare.db import utcnow
from townsquare.feedback import service
from townsquare.feedback.schemas import FeedbackIn, FeedbackOut
from townsquare.http.deps import DB, Config, optional_actor

router = APIRouter(tags=["feed"])
MaybeActor = Annotated[Actor | None, Depends(optional_actor)]


def reader(request: Request, actor: Actor | None) -> service.Reader:
    """The reader of this request: the account, else the (IP, user agent) it came from."""
    ip = request.client.host if request.client else None
    return service.reader_of(
        actor.account_id if actor else None, ip, request.headers.get("user-agent")
    )


@router.post(
    "/api/v1/incidents/{incident_id}/feedback",
    summary="Mark an alert not useful or inaccurate (one vote per reader)",
)
def mark_alert(
    incident_id: int,
    body: FeedbackIn,
    request: Request,
    actor: MaybeActor,
    session: DB,
    settings: Config,
) -> FeedbackOut:
    """Voting again changes the reader's vote; anonymous readers are limited per hour."""
    return service.vote(
        session,
        settings,
        server_secret(settings),
        incident_id,
        body.verdict,
        reader(request, actor),
        utcnow(),
    )
