"""Media actions: upload a photo or clip (private original, public derivative), read them back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.errors import NotFound
from townsquare.media import clips, images
from townsquare.media.intake import Received
from townsquare.media.models import Media
from townsquare.media.storage import BlobStore
from townsquare.settings import Settings


def store_of(settings: Settings) -> BlobStore:
    """The blob store under the data folder."""
    return BlobStore(Path(settings.data_dir) / "media")


def _photo(store: BlobStore, settings: Settings, upload: Received) -> Media:
    data = upload.path.read_bytes()  # bounded by media_max_image_bytes in intake
    public = images.public_photo(data, settings.media_max_pixels)
    return Media(
        kind="photo",
        original_key=store.put(data),
        public_key=store.put(public.data),
        public_type="image/jpeg",
        width=public.width,
        height=public.height,
        blurred_regions=public.regions,
    )


def _clip(store: BlobStore, settings: Settings, upload: Received) -> Media:
    public = clips.public_clip(
        upload.path,
        upload.work / "public.mp4",
        settings.media_max_video_s,
        settings.media_max_pixels,
    )
    return Media(
        kind="clip",
        original_key=store.put_file(upload.path),
        public_key=store.put_file(public.path),
        public_type="video/mp4",
        width=public.width,
        height=public.height,
        duration_s=public.duration_s,
        blurred_regions=public.regions,
    )


def upload_media(
    session: Session, settings: Settings, upload: Received, *, actor: Actor, now: datetime
) -> int:
    """Keep the original privately and a stripped, blurred derivative publicly; returns the id.

    A clip's `blurred_regions` is the most regions blurred in any one of its frames.
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


def read_media(
    session: Session, settings: Settings, media_id: int, original: bool, *, actor: Actor
) -> tuple[Path, str]:
    """Where a medium's bytes are and their type; only its owner may read it."""
    row = session.get(Media, media_id)
    if row is None or row.owner_id != actor.account_id:
        raise NotFound(f"media {media_id} not found")
    if original:
        if row.original_key is None:
            raise NotFound("the original has expired")
        return store_of(settings).path_of(row.original_key), row.content_type
    return store_of(settings).path_of(row.public_key), row.public_type
