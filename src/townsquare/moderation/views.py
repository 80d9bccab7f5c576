"""Moderation API routes: the queue, the actions on one post, and the audited reveal."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from townsquare.db import utcnow
from townsquare.http.deps import DB, CurrentActor
from townsquare.moderation import service
from townsquare.posts.schemas import PostRevealed, PostReview, RevealIn

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])


class Decision(BaseModel):
    """A reason, required for reject and remove; shown to the author."""

    reason: str | None = Field(default=None, max_length=2000)


@router.get("/queue", summary="Pending posts with the checks that flagged them")
def queue(actor: CurrentActor, session: DB) -> list[PostReview]:
    """Oldest first; scrubbed text and the public point, never the exact one."""
    return service.queue(session, actor=actor)


# Declared before the generic action route, which would otherwise take "exact-point".
@router.post(
    "/posts/{post_id}/exact-point", summary="Read a post's exact point and text, with a reason"
)
def reveal(post_id: int, body: RevealIn, actor: CurrentActor, session: DB) -> PostRevealed:
    """The read and its reason are written to the author's access log."""
    return service.reveal_post(session, post_id, body.reason, actor=actor)


@router.post("/posts/{post_id}/{action}", summary="approve, reject, remove or restore")
def act(post_id: int, action: str, body: Decision, actor: CurrentActor, session: DB) -> PostReview:
    """One audited action."""
    return service.moderate_post(session, post_id, action, body.reason, actor=actor, now=utcnow())
