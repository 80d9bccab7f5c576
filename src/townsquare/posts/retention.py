"""Retention of posts' exact points: erased a while after the post or its incident closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from townsquare.incidents.models import Incident
from townsquare.posts.models import Post
from townsquare.privacy.policy import default_policy


def expire_post_points(session: Session, now: datetime) -> int:
    """Forget the exact points of posts closed past the retention; returns how many."""
    # A post is closed when rejected, removed or closed (by its author or after
    # `post_open_days`), or when its incident was cleared.
    cutoff = now - timedelta(days=default_policy().retention.closed_post_point_days)
    cleared = select(Incident.id).where(Incident.status == "closed", Incident.closed_at < cutoff)
    expired = (
        Post.lat.is_not(None),
        or_(Post.closed_at < cutoff, Post.incident_id.in_(cleared)),
    )
    found = int(session.scalar(select(func.count()).select_from(Post).where(*expired)) or 0)
    if found:
        session.execute(update(Post).where(*expired).values(lat=None, lon=None))
    return found
