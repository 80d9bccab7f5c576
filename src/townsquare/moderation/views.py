"""Moderation API routes: the queue and the actions on one post."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from townsquare.accounts.views import DB, CurrentActor
from townsquare.db import utcnow
from townsquare.moderation import service
from townsquare.posts.schemas import PostOwn

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])


class Decision(BaseModel):
    """A reason, required for reject and remove; shown to the author."""

    reason: str | None = Field(default=None, max_length=2000)


@router.get("/queue", summary="Pending posts with the checks that flagged them")
def queue(actor: CurrentActor, session: DB) -> list[PostOwn]:
    """Oldest first."""
    return service.queue(session, actor=actor)


@router.post("/posts/{post_id}/{action}", summary="approve, reject, remove or restore")
def act(post_id: int, action: str, body: Decision, actor: CurrentActor, session: DB) -> PostOwn:
    """One audited action."""
    return service.moderate_post(session, post_id, action, body.reason, actor=actor, now=utcnow())
