"""The public media of resident incidents: their posts' blurred derivatives, once approved.

A derivative is public only while a post it is attached to is approved (published, or closed
after it was) and that post's incident, or the dispatch incident it was merged into, is in the
public feed: a post that is pending again
after an edit, rejected, removed or deleted takes its media out with it. Originals are never
public. The URL is the hash of the derivative's bytes, so it names no media id, post or
author; `media.public` serves it.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import MediaPublic
from townsquare.media.models import Media
from townsquare.posts.models import Post, PostMedia

PREFIX = "/api/v1/media/public/"
APPROVED = ("published", "closed")
EXTENSIONS = {"image/jpeg": "jpg", "video/mp4": "mp4"}


def public_only(query: Select[int | None, Media]) -> Select[int | None, Media]:
    """Only ready derivatives on approved posts whose incident is public."""
    return (
        query.join(PostMedia, PostMedia.media_id == Media.id)
        .join(Post, Post.id == PostMedia.post_id)
        .where(
            Post.state.in_(APPROVED),
            exists().where(
                Incident.visibility == "public",
                or_(Incident.id == Post.incident_id, Incident.id == Post.corroborated_by),
            ),
            Media.state == "ready",
            Media.public_key.is_not(None),
            Media.public_type.in_(EXTENSIONS),
        )
    )


def url_of(row: Media) -> str:
    """The public path of a medium's derivative."""
    assert row.public_key is not None
    assert row.public_type is not None
    return f"{PREFIX}{row.public_key}.{EXTENSIONS[row.public_type]}"


def shown(row: Media) -> MediaPublic:
    """A ready derivative as the public sees it."""
    return MediaPublic(
        kind="clip" if row.kind == "clip" else "photo",
        url=url_of(row),
        content_type=row.public_type or "",
        width=row.width,
        height=row.height,
        duration_s=row.duration_s if row.kind == "clip" else None,
    )


def of_incidents(session: Session, incident_ids: Collection[int]) -> dict[int, list[MediaPublic]]:
    """Per resident incident, the public media of its post, in the order the author chose."""
    if not incident_ids:
        return {}
    query = public_only(select(Post.incident_id, Media)).where(Post.incident_id.in_(incident_ids))
    rows = session.execute(query.order_by(Post.incident_id, PostMedia.position, Media.id))
    found: dict[int, list[MediaPublic]] = {}
    for incident_id, row in rows:
        if incident_id is not None:
            found.setdefault(incident_id, []).append(shown(row))
    return found


def announce_ready(session: Session, media_id: int) -> None:
    """Say `incident.updated` for each public incident a newly ready derivative now shows in,
    in the caller's transaction, so every node re-encodes it (the feed keeps incidents encoded).
    """
    query = public_only(select(Post.incident_id, Media)).where(Media.id == media_id)
    for incident_id in sorted({i for i, _ in session.execute(query) if i is not None}):
        announce(session, topics.INCIDENT_UPDATED, {"id": incident_id})
