"""The retention run: every domain's expiry in one transaction, its counts recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.accounts.throttle import expire_counters
from townsquare.db import transaction
from townsquare.footage.models import Clip
from townsquare.ingest.retention import expire_raw_records
from townsquare.media.models import Media
from townsquare.media.retention import EXPIRED_BLOBS, erase_unreferenced, expire_media_originals
from townsquare.media.storage import BlobStore
from townsquare.posts import lifecycle as post_lifecycle
from townsquare.posts.models import PostMedia
from townsquare.posts.retention import expire_post_points
from townsquare.privacy.models import RetentionRun
from townsquare.privacy.policy import default_policy

log = logging.getLogger(__name__)


def _expire_unattached_media(session: Session, now: datetime) -> int:
    """Uploads no post and no camera took: a post refused or never sent leaves them behind."""
    cutoff = now - timedelta(days=default_policy().retention.unattached_media_days)
    rows = session.execute(
        select(Media.id, Media.original_key, Media.public_key).where(
            Media.created_at < cutoff,
            ~exists().where(PostMedia.media_id == Media.id),
            ~exists().where(Clip.media_id == Media.id),
        )
    ).all()
    if rows:
        session.execute(delete(Media).where(Media.id.in_([row[0] for row in rows])))
        keys = {key for row in rows for key in row[1:] if key}
        session.info.setdefault(EXPIRED_BLOBS, set()).update(keys)
    return len(rows)


Expirer = Callable[[Session, datetime], int]
EXPIRERS: dict[str, Expirer] = {
    "raw_records": expire_raw_records,
    "post_points": expire_post_points,
    "media_originals": expire_media_originals,
    "unattached_media": _expire_unattached_media,
    "throttle_counters": expire_counters,
}
"""What the retention job deletes, by kind (`retention` in the policy says how long)."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention run deleted, by kind."""

    ran_at: datetime
    deleted: dict[str, int]
    closed_posts: int = 0

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.deleted.values())

    def summary(self) -> str:
        """One line a person can read."""
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.deleted.items())
        closed = f"; closed {self.closed_posts} posts open past post_open_days"
        return f"retention: deleted {self.total} rows ({kinds}){closed}"


def run_retention(
    factory: sessionmaker[Session], *, now: datetime, store: BlobStore | None = None
) -> RetentionReport:
    """Delete private data past its retention in one transaction, and record the counts.

    First, published posts open longer than `post_open_days` close (with their incidents), so
    their exact points start toward expiry. Media blobs whose rows expired are erased from
    `store` after the commit.
    """
    with transaction(factory) as session:
        closed = post_lifecycle.close_due(session, now)
        deleted = {kind: expire(session, now) for kind, expire in EXPIRERS.items()}
        report = RetentionReport(now, deleted, closed)
        session.add(RetentionRun(ran_at=now, deleted=deleted, total=report.total))
        blobs: set[str] = session.info.pop(EXPIRED_BLOBS, set())
    if blobs and store is None:
        log.warning("expired media blobs kept: no blob store given", extra={"count": len(blobs)})
    elif blobs and store is not None:
        with factory() as session:
            erase_unreferenced(session, store, blobs)
    log.info("retention run", extra={"report": report.summary(), "count": report.total})
    return report
