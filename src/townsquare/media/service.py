"""Media actions: upload a photo or clip (private original, public derivative), read them back.

An upload is only probed in the request (a photo's header, a clip's streams: a file that is
not a bounded photo or clip is refused at once) and stored `processing`; `media.jobs` makes
its derivative in the background, one at a time per job, and until then it answers 409.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.db import make_engine
from townsquare.errors import Conflict, NotFound
from townsquare.media import clips, images
from townsquare.media.chunks import DatabaseStore
from townsquare.media.intake import Received
from townsquare.media.models import Media
from townsquare.media.retention import erase_unreferenced
from townsquare.media.storage import Blob, BlobStore, LocalStore
from townsquare.posts.models import Post, PostMedia
from townsquare.settings import Settings

REVIEWABLE = ("pending", "published")  # states of a post whose media moderators may see


def store_of(settings: Settings) -> BlobStore:
    """The blob store the settings choose: a folder, the shared database, or a bucket."""
    if settings.media_storage == "database":
        return DatabaseStore(_engine(settings.resolved_database_url()))
    if settings.media_storage == "s3":
        return _bucket(settings)
    return LocalStore(Path(settings.data_dir) / "media")


@functools.cache
def _engine(url: str) -> Engine:
    """One engine per database for the media it keeps, made when media is first stored."""
    return make_engine(url)


_buckets: dict[tuple[str, str, str], BlobStore] = {}


def _bucket(settings: Settings) -> BlobStore:
    """One client per bucket (boto3 clients are thread-safe and slow to make)."""
    from townsquare.media.buckets import BucketStore

    place = (settings.s3_endpoint_url, settings.s3_bucket, settings.s3_prefix)
    if place not in _buckets:
        _buckets[place] = BucketStore(settings)
    return _buckets[place]


def _photo(store: BlobStore, settings: Settings, upload: Received) -> Media:
    width, height = images.public_size(upload.path, settings.media_max_pixels)  # header only
    return Media(
        kind="photo",
        state="processing",
        original_key=store.put_file(upload.path),
        width=width,
        height=height,
        blurred_regions=0,
    )


def _clip(store: BlobStore, settings: Settings, upload: Received) -> Media:
    meta = clips.probe(upload.path, settings.media_max_video_s, settings.media_max_pixels)
    width, height = clips.public_size(meta.width, meta.height)
    return Media(
        kind="clip",
        state="processing",
        original_key=store.put_file(upload.path),
        width=width,
        height=height,
        duration_s=meta.duration_s,
        blurred_regions=0,
    )


def upload_media(
    session: Session, settings: Settings, upload: Received, *, actor: Actor, now: datetime
) -> int:
    """Keep the original privately; the media job makes the stripped, blurred derivative.

    Returns the id. A clip's `blurred_regions` will be the most regions blurred in any one of
    its frames.
    """
    store = store_of(settings)
    row = _clip(store, settings, upload) if upload.is_clip else _photo(store, settings, upload)
    row.owner_id = actor.account_id
    row.content_type = upload.content_type
    row.created_at = now
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=actor.account_id,
        action="media.upload",
        object_type="media",
        object_id=row.id,
        subject_id=actor.account_id,
    )
    session.commit()
    return row.id


def _unfinished(row: Media) -> Conflict:
    if row.state == "processing":
        return Conflict(f"media {row.id} is still being processed; try again in a minute")
    return Conflict(f"media {row.id} could not be processed: {row.error or 'unknown error'}")


def derivative_of(settings: Settings, row: Media) -> Blob:
    """A medium's public derivative; 409 while it is not made."""
    key, kind = row.public_key, row.public_type
    if row.state != "ready" or key is None or kind is None:
        raise _unfinished(row)
    return Blob(store_of(settings), key, kind)


def owned(session: Session, media_id: int, actor: Actor) -> Media:
    """The caller's own medium, else NotFound."""
    row = session.get(Media, media_id)
    if row is None or row.owner_id != actor.account_id:
        raise NotFound(f"media {media_id} not found")
    return row


def read_media(
    session: Session, settings: Settings, media_id: int, original: bool, *, actor: Actor
) -> Blob:
    """A medium's bytes and their type; only its owner may read it."""
    row = owned(session, media_id, actor)
    if original:
        if row.original_key is None:
            raise NotFound("the original has expired")
        return Blob(store_of(settings), row.original_key, row.content_type)
    return derivative_of(settings, row)


def read_for_review(session: Session, settings: Settings, media_id: int, *, actor: Actor) -> Blob:
    """The public derivative of a medium on a pending or published post, for a moderator.

    Each read is audited with the owner as its subject. Anyone else, a medium on no such
    post, and the original (which stays its owner's alone) are all NotFound.
    """
    post_id = None
    if actor.has("moderator"):
        post_id = session.scalar(
            select(PostMedia.post_id)
            .join(Post, Post.id == PostMedia.post_id)
            .where(PostMedia.media_id == media_id, Post.state.in_(REVIEWABLE))
            .limit(1)
        )
    row = session.get(Media, media_id) if post_id is not None else None
    if row is None:
        raise NotFound(f"media {media_id} not found")
    blob = derivative_of(settings, row)  # nothing is read, so nothing audited, before
    audit.record(
        session,
        actor_id=actor.account_id,
        action="media.review",
        object_type="media",
        object_id=row.id,
        subject_id=row.owner_id,
        detail={"post": post_id},
    )
    session.commit()
    return blob


def discard_unattached(
    session: Session, settings: Settings, media_id: int, *, actor: Actor
) -> bool:
    """Delete the caller's upload if no post uses it (its post was refused); True if deleted.

    Its blobs are erased after the commit unless another row names the same bytes.
    """
    row = session.get(Media, media_id)
    if row is None or row.owner_id != actor.account_id:
        return False
    used = session.scalar(select(PostMedia.post_id).where(PostMedia.media_id == media_id).limit(1))
    if used is not None:
        return False
    keys = {key for key in (row.original_key, row.public_key) if key}
    session.delete(row)
    audit.record(
        session,
        actor_id=actor.account_id,
        action="media.discard",
        object_type="media",
        object_id=media_id,
        subject_id=actor.account_id,
    )
    session.commit()
    erase_unreferenced(session, store_of(settings), keys)
    return True


def kept_upload(session: Session, media_id: int, *, actor: Actor) -> Media | None:
    """The caller's upload that no post took yet (a refused draft's photo), else None."""
    row = session.get(Media, media_id)
    if row is None or row.owner_id != actor.account_id:
        return None
    used = session.scalar(select(PostMedia.post_id).where(PostMedia.media_id == media_id).limit(1))
    return row if used is None else None


def kinds_of(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Per media id, what to show: `photo` or `clip` once made, else `processing` or `failed`
    (a clip's) or `photo processing` or `photo failed`.

    No content, no owner.
    """
    if not ids:
        return {}
    rows = session.execute(select(Media.id, Media.kind, Media.state).where(Media.id.in_(ids)))
    return {
        media_id: kind if state == "ready" else state if kind == "clip" else f"{kind} {state}"
        for media_id, kind, state in rows
    }
