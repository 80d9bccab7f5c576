"""Moderation: the queue of pending posts and the four actions, each one audited commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.errors import Conflict, Forbidden, NotFound
from townsquare.posts import service as posts
from townsquare.posts.models import Post
from townsquare.posts.schemas import PostOwn

# action -> the states it applies to and the state it leaves
TRANSITIONS = {
    "approve": (("pending",), "published"),
    "reject": (("pending",), "rejected"),
    "remove": (("published",), "removed"),
    "restore": (("removed", "rejected"), "published"),
}


def _moderator(actor: Actor) -> None:
    if not actor.has("moderator"):
        raise Forbidden("moderators only (signed in with two-factor)")


def queue(session: Session, *, actor: Actor) -> list[PostOwn]:
    """Pending posts, oldest first, with the checks that flagged them."""
    _moderator(actor)
    rows = session.scalars(
        select(Post).where(Post.state == "pending").order_by(Post.created_at, Post.id)
    )
    return [posts.own_view(session, p) for p in rows]


def decided(session: Session, *, actor: Actor, limit: int = 50) -> list[PostOwn]:
    """Posts decided lately (published, rejected, removed), newest decision first."""
    _moderator(actor)
    rows = session.scalars(
        select(Post)
        .where(Post.state != "pending")
        .order_by(Post.updated_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return [posts.own_view(session, p) for p in rows]


def moderate_post(
    session: Session,
    post_id: int,
    action: str,
    reason: str | None,
    *,
    actor: Actor,
    now: datetime,
) -> PostOwn:
    """Approve, reject (reason), remove (reason) or restore a post; one audit entry."""
    _moderator(actor)
    if action not in TRANSITIONS:
        raise NotFound(f"no action {action}")
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post {post_id} not found")
    allowed, target = TRANSITIONS[action]
    if post.state not in allowed:
        raise Conflict(f"a {post.state} post cannot be given '{action}'")
    if action in ("reject", "remove") and not (reason and reason.strip()):
        raise Conflict(f"'{action}' needs a reason the author will read")
    if action in ("approve", "restore"):
        posts.publish(session, post, now)
    else:
        posts.hide(session, post, reason or "", now)
    post.state = target
    post.reason = reason.strip() if reason and target in ("rejected", "removed") else None
    post.updated_at = now
    post.closed_at = now if target in ("rejected", "removed") else None
    audit.record(
        session,
        actor_id=actor.account_id,
        action=f"post.{action}",
        object_type="post",
        object_id=post.id,
        subject_id=post.author_id,
        detail={"reason": post.reason} if post.reason else {},
    )
    session.commit()
    return posts.own_view(session, post)
