"""Media actions: upload a photo (private original, public derivative), read them back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.errors import InvalidParameter, NotFound, PayloadTooLarge
from townsquare.media import images
from townsquare.media.models import Media
from townsquare.media.storage import BlobStore
from townsquare.settings import Settings


def store_of(settings: Settings) -> BlobStore:
    """The blob store under the data folder."""
    return BlobStore(Path(settings.data_dir) / "media")


def upload_media(
    session: Session, settings: Settings, data: bytes, *, actor: Actor, now: datetime
) -> int:
    """Keep the original privately and a stripped, blurred photo publicly; returns the id."""
    if len(data) > settings.media_max_image_bytes:
        raise PayloadTooLarge(f"photos up to {settings.media_max_image_bytes} bytes")
    kind = images.sniff(data[:16])
    if kind is None or not kind.startswith("image/"):
        raise InvalidParameter("file", "send a JPEG, PNG or HEIC photo")
    public = images.public_photo(data, settings.media_max_pixels)
    store = store_of(settings)
    row = Media(
        owner_id=actor.account_id,
        kind="photo",
        content_type=kind,
        original_key=store.put(data),
        public_key=store.put(public.data),
        public_type="image/jpeg",
        width=public.width,
        height=public.height,
        blurred_regions=public.regions,
        created_at=now,
    )
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
) -> tuple[bytes, str]:
    """A photo's bytes; only its owner may read it (the original above all)."""
    row = session.get(Media, media_id)
    if row is None or row.owner_id != actor.account_id:
        raise NotFound(f"media {media_id} not found")
    if original:
        if row.original_key is None:
            raise NotFound("the original has expired")
        return store_of(settings).get(row.original_key), row.content_type
    return store_of(settings).get(row.public_key), row.public_type
