"""The public copies of media: a post's blurred derivatives while its incident is public.

A derivative is public only while a post it is attached to is approved (published, or closed
after it was) and that post's incident is in the public feed: a post that is pending again
after an edit, rejected, removed or deleted takes its media out with it, and the URL answers
404 from then on. Originals are never public. The URL is the hash of the derivative's bytes,
so it names no media id, post or author.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from townsquare.errors import NotFound
from townsquare.incidents.models import Incident
from townsquare.media.models import Media
from townsquare.media.schemas import MediaPublic
from townsquare.media.service import store_of
from townsquare.media.storage import Blob
from townsquare.posts.models import Post, PostMedia
from townsquare.settings import Settings

PREFIX = "/api/v1/media/public/"
APPROVED = ("published", "closed")
EXTENSIONS = {"image/jpeg": "jpg", "video/mp4": "mp4"}
NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|mp4)$")


def _public(query: Select[int | None, Media]) -> Select[int | None, Media]:
    """Only ready derivatives on approved posts whose incident is public."""
    return (
        query.join(PostMedia, PostMedia.media_id == Media.id)
        .join(Post, Post.id == PostMedia.post_id)
        .join(Incident, Incident.id == Post.incident_id)
        .where(
            Post.state.in_(APPROVED),
            Incident.visibility == "public",
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
    query = _public(select(Post.incident_id, Media)).where(Post.incident_id.in_(incident_ids))
    rows = session.execute(query.order_by(Post.incident_id, PostMedia.position, Media.id))
    found: dict[int, list[MediaPublic]] = {}
    for incident_id, row in rows:
        if incident_id is not None:
            found.setdefault(incident_id, []).append(shown(row))
    return found


def of_post(session: Session, post_id: int) -> list[MediaPublic]:
    """The public media of one post (none unless it is approved and its incident public)."""
    query = _public(select(Post.incident_id, Media)).where(Post.id == post_id)
    rows = session.execute(query.order_by(PostMedia.position, Media.id))
    return [shown(row) for _, row in rows]


def read_public(session: Session, settings: Settings, name: str) -> Blob:
    """The bytes of a public derivative by its file name (`<sha256>.jpg|mp4`), else NotFound."""
    match = NAME.match(name)
    if match is None:
        raise NotFound(f"no public media {name}")
    key, extension = match.groups()
    query = _public(select(Post.incident_id, Media)).where(Media.public_key == key).limit(1)
    found = session.execute(query).first()
    if found is None or EXTENSIONS.get(found[1].public_type or "") != extension:
        raise NotFound(f"no public media {name}")
    return Blob(store_of(settings), key, found[1].public_type or "")
