"""A post after it is sent: its author edits, closes or deletes it; published posts close on time.

Closing is what lets a resident's exact point expire: retention erases the exact point of a
post `closed_post_point_days` after it closed, so a post that never closed kept it forever.
A published post therefore closes `retention.post_open_days` after it was first published
(an edit does not restart the clock), and its author may close or delete it sooner.

An edit goes through the guidelines check again, as a new post does. An edited published post
goes back to the moderation queue and its incident leaves the feed until a moderator approves
the new text: a published post must never show words nobody reviewed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.errors import Conflict
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.incidents import publish as writer
from townsquare.incidents.models import Incident
from townsquare.posts import guidelines
from townsquare.posts.models import Post, PostMedia
from townsquare.posts.schemas import PostEdit, PostOwn
from townsquare.posts.service import GuidelineRefusal, authored, hide, own_view
from townsquare.privacy.policy import default_policy

EDITABLE = ("pending", "published")
CLOSABLE = ("pending", "published")


def _audit(session: Session, post: Post, action: str, actor: Actor, **detail: object) -> None:
    audit.record_row(
        session,
        post,
        actor_id=actor.account_id,
        action=action,
        subject_id=actor.account_id,
        detail=dict(detail),
    )


def edit_post(
    session: Session, post_id: int, change: PostEdit, *, actor: Actor, now: datetime
) -> PostOwn:
    """Change a pending or published post's category, title or text; it is checked again.

    A published post returns to the moderation queue and leaves the feed until approved.
    """
    post = authored(session, post_id, actor)
    if post.state not in EDITABLE:
        raise Conflict(f"a {post.state} post cannot be edited")
    category = change.category if change.category is not None else post.category
    title = (change.title if change.title is not None else post.title).strip()
    description = (
        change.description if change.description is not None else post.description
    ).strip()
    person = None
    if post.person:
        p = post.person
        descriptors = tuple(p.get("descriptors", ()))
        person = guidelines.Person(
            p.get("action", ""), descriptors, p.get("suspicious", False), p.get("could_be")
        )
    # The time of the event is not edited; a late edit is published without an alert.
    outcome = guidelines.check(category, title, description, post.occurred_at, person, now=now)
    if outcome.refusals:
        raise GuidelineRefusal(outcome.refusals)
    was = post.state
    post.category, post.title, post.description = category, title, description
    appeals = [c for c in post.checks if c.get("code") == "appeal"]
    post.checks = [*appeals, *({"code": c.code, "reason": c.reason} for c in outcome.flags)]
    post.fyi, post.alertable = outcome.fyi, outcome.alertable
    post.alert_reasons = outcome.alert_reasons
    post.state, post.updated_at = "pending", now
    if was == "published":
        hide(session, post, "edited by its author: back in review", now)
    _audit(session, post, "post.edit", actor, was=was)
    announce(session, topics.POST_SUBMITTED, {"id": post.id})
    session.commit()
    return own_view(session, post)


def _close(session: Session, post: Post, at: datetime, now: datetime) -> None:
    """Close the post and its incident (the feed item is announced closed, as others are)."""
    post.state, post.closed_at, post.updated_at = "closed", at, now
    incident = session.get(Incident, post.incident_id) if post.incident_id else None
    if incident is not None:
        writer.close(session, incident, at=at, now=now)


def close_post(session: Session, post_id: int, *, actor: Actor, now: datetime) -> PostOwn:
    """The author closes a pending or published post: it leaves the queue or the live feed."""
    post = authored(session, post_id, actor)
    if post.state not in CLOSABLE:
        raise Conflict(f"a {post.state} post cannot be closed")
    _close(session, post, now, now)
    _audit(session, post, "post.close", actor)
    session.commit()
    return own_view(session, post)


def delete_post(session: Session, post_id: int, *, actor: Actor, now: datetime) -> None:
    """The author deletes a post: its incident is retracted everywhere, the post row is gone.

    Its uploads lose their link to it; retention deletes them as unattached uploads a day
    later (a camera's clip that is also attached stays with the camera).
    """
    post = authored(session, post_id, actor)
    hide(session, post, "deleted by its author", now)
    _audit(session, post, "post.delete", actor, was=post.state)
    session.execute(delete(PostMedia).where(PostMedia.post_id == post.id))
    session.delete(post)
    session.commit()


def close_due(session: Session, now: datetime) -> int:
    """Close every published post open longer than the policy allows; the caller commits."""
    days = timedelta(days=default_policy().retention.post_open_days)
    due = session.scalars(
        select(Post)
        .where(Post.state == "published", Post.published_at <= now - days)
        .order_by(Post.id)
    ).all()
    for post in due:
        # Closed when it was due, even if the job ran late (the server was down, say).
        assert post.published_at is not None
        _close(session, post, post.published_at + days, now)
    return len(due)
