"""Retention of media: originals expire, and blobs no row names any more are erased."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from townsquare.media.models import Media
from townsquare.media.storage import BlobStore
from townsquare.privacy.policy import default_policy

EXPIRED_BLOBS = "townsquare.expired_blobs"
"""Key of `Session.info` where expirers leave blob keys to erase once the run commits."""


def expire_media_originals(session: Session, now: datetime) -> int:
    """Drop originals past their retention (derivatives stay); returns how many."""
    cutoff = now - timedelta(days=default_policy().retention.media_original_days)
    rows = session.execute(
        select(Media.id, Media.original_key).where(
            Media.original_key.is_not(None),
            Media.created_at < cutoff,
            Media.state != "processing",  # its derivative is still to be made from it
        )
    ).all()
    if rows:
        session.execute(
            update(Media).where(Media.id.in_([i for i, _ in rows])).values(original_key=None)
        )
        session.info.setdefault(EXPIRED_BLOBS, set()).update(k for _, k in rows if k)
    return len(rows)


def erase_unreferenced(session: Session, store: BlobStore, keys: set[str]) -> int:
    """Erase the blobs no media row names any more (the same bytes may be someone else's).

    Run after the commit that dropped the references: a failed transaction then leaves an
    unreferenced blob behind, never a row whose blob is gone.
    """
    erased = 0
    for key in sorted(keys):
        named = session.scalar(
            select(Media.id).where(or_(Media.original_key == key, Media.public_key == key))
        )
        if named is None:
            store.delete(key)
            erased += 1
    return erased
