"""Moderation: the queue of pending posts and the four actions, each one audited commit.

Moderators read posts as `PostReview`: the text scrubbed as the public would read it and the
public (displaced, coarse) point. The exact point and the text as written are read one post
at a time with a stated reason (`reveal_post`), an audit entry the author sees in their
access log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.errors import Conflict, Forbidden, NotFound
from townsquare.posts import service as posts
from townsquare.posts.models import Post
from townsquare.posts.schemas import (
    CheckOut,
    PersonIn,
    PersonReview,
    PostRevealed,
    PostReview,
)
from townsquare.privacy.engine import public_text
from townsquare.privacy.policy import Policy, default_policy
from townsquare.privacy.public import seal_point, seal_text
from townsquare.privacy.types import ScrubbedText

# action -> the states it applies to and the state it leaves
TRANSITIONS = {
    "approve": (("pending",), "published"),
    "reject": (("pending",), "rejected"),
    "remove": (("published", "closed"), "removed"),
    "restore": (("removed", "rejected"), "published"),
}


def _moderator(actor: Actor) -> None:
    if not actor.has("moderator"):
        raise Forbidden("moderators only (signed in with two-factor)")


def _scrubbed(text: str, policy: Policy) -> ScrubbedText:
    return seal_text(public_text(text, policy))


def _person(person: dict[str, object] | None, policy: Policy) -> PersonReview | None:
    if not person:
        return None
    p = PersonIn.model_validate(person)
    return PersonReview(
        action=_scrubbed(p.action, policy),
        descriptors=[_scrubbed(d, policy) for d in p.descriptors],
        suspicious=p.suspicious,
        could_be=p.could_be,
    )


def review_view(session: Session, post: Post) -> PostReview:
    """A post as a moderator reads it: scrubbed text, the public point, never the exact one."""
    policy = default_policy()
    own = posts.own_view(session, post)
    return PostReview(
        id=post.id,
        state=post.state,
        reason=post.reason,
        category=post.category,
        title=_scrubbed(post.title, policy),
        description=_scrubbed(post.description, policy),
        person=_person(post.person, policy),
        occurred_at=post.occurred_at,
        point=seal_point(post.public_lat, post.public_lon),
        exact_point_kept=post.lat is not None,
        # An appeal's check quotes the author's words: scrubbed like the rest.
        checks=[CheckOut(code=c.code, reason=_scrubbed(c.reason, policy)) for c in own.checks],
        fyi=post.fyi,
        alertable=post.alertable,
        alert_reasons=list(post.alert_reasons),
        appeals=post.appeals,
        appeal_text=_scrubbed(post.appeal_text, policy) if post.appeal_text else None,
        incident_id=post.incident_id,
        corroborated_by=post.corroborated_by,
        media_ids=own.media_ids,
        created_at=post.created_at,
    )


def queue(session: Session, *, actor: Actor) -> list[PostReview]:
    """Pending posts, oldest first, with the checks that flagged them."""
    _moderator(actor)
    rows = session.scalars(
        select(Post).where(Post.state == "pending").order_by(Post.created_at, Post.id)
    )
    return [review_view(session, p) for p in rows]


def decided(session: Session, *, actor: Actor, limit: int = 50) -> list[PostReview]:
    """Posts decided lately (published, closed, rejected, removed), newest decision first."""
    _moderator(actor)
    rows = session.scalars(
        select(Post)
        .where(Post.state != "pending")
        .order_by(Post.updated_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return [review_view(session, p) for p in rows]


def moderate_post(
    session: Session,
    post_id: int,
    action: str,
    reason: str | None,
    *,
    actor: Actor,
    now: datetime,
) -> PostReview:
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
        posts.hide(session, post, f"removed by moderation: {reason or ''}", now)
    post.state = target
    post.reason = reason.strip() if reason and target in ("rejected", "removed") else None
    post.updated_at = now
    # A closed post that is removed keeps its closing time: its exact point expires on time.
    closing = post.closed_at or now
    post.closed_at = closing if target in ("rejected", "removed") else None
    audit.record_row(
        session,
        post,
        actor_id=actor.account_id,
        action=f"post.{action}",
        subject_id=post.author_id,
        detail={"reason": post.reason} if post.reason else {},
    )
    session.commit()
    return review_view(session, post)


def reveal_post(session: Session, post_id: int, reason: str, *, actor: Actor) -> PostRevealed:
    """One post's exact point and text as written, for a stated reason the author will read.

    The read is an audit entry about the author (`post.reveal`), listed in their access log
    with the reader's role and the reason; nothing else hands a moderator the exact point.
    """
    _moderator(actor)
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post {post_id} not found")
    stated = reason.strip()
    if len(stated) < 10:
        raise Conflict("say why you need the exact point (the author reads it)")
    audit.record_row(
        session,
        post,
        actor_id=actor.account_id,
        action="post.reveal",
        subject_id=post.author_id,
        detail={"reason": stated},
    )
    session.commit()
    return PostRevealed(
        id=post.id,
        lat=post.lat,
        lon=post.lon,
        title=post.title,
        description=post.description,
        person=PersonIn.model_validate(post.person) if post.person else None,
        appeal_text=post.appeal_text,
        reason=stated,
    )
