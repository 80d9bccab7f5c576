"""Privacy actions: the retention job, the release of delayed incidents, the manifest query."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from townsquare import taxonomy
from townsquare.agencies.models import Agency
from townsquare.db import transaction
from townsquare.errors import NotFound, TownsquareError
from townsquare.events.outbox import announce
from townsquare.footage import service as footage
from townsquare.footage.models import Clip
from townsquare.incidents.models import Incident
from townsquare.ingest.models import RawRecord, Source
from townsquare.media.models import Media
from townsquare.media.storage import BlobStore
from townsquare.posts import lifecycle as post_lifecycle
from townsquare.posts.models import Post, PostMedia
from townsquare.privacy import gate, manifest
from townsquare.privacy.models import RetentionRun
from townsquare.privacy.policy import SourcePolicy, default_policy, source_policy
from townsquare.privacy.schemas import Figures, PolicyManifest, SourceRef

log = logging.getLogger(__name__)

RELEASE_WINDOW = timedelta(days=30)
"""Delayed incidents older than this are not looked at again (delays are at most 7 days)."""


def policy_of(source: Source) -> SourcePolicy:
    """The policy a stored source runs under; ConfigError if its [policy] table is invalid."""
    return source_policy(source.config.get("policy"))


def _retention_policy(source: Source) -> SourcePolicy:
    try:
        return policy_of(source)
    except TownsquareError:
        # Deleting on time matters more than the source's wishes: use the deployment's.
        log.exception("invalid policy; retention uses the default", extra={"source": source.slug})
        return SourcePolicy(default_policy())


def _expire_raw_records(session: Session, now: datetime) -> int:
    deleted = 0
    for source in session.scalars(select(Source)):
        days = _retention_policy(source).policy.retention.raw_record_days
        expired = (
            RawRecord.source_id == source.id,
            RawRecord.received_at < now - timedelta(days=days),
        )
        found = int(session.scalar(select(func.count()).where(*expired)) or 0)
        if found:
            session.execute(delete(RawRecord).where(*expired))
        deleted += found
    return deleted


def _expire_post_points(session: Session, now: datetime) -> int:
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


EXPIRED_BLOBS = "townsquare.expired_blobs"
"""Key of `Session.info` where expirers leave blob keys to erase once the run commits."""


def _expire_media_originals(session: Session, now: datetime) -> int:
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
    "raw_records": _expire_raw_records,
    "post_points": _expire_post_points,
    "media_originals": _expire_media_originals,
    "unattached_media": _expire_unattached_media,
}
"""What the retention job deletes, by kind (`retention` in the policy says how long)."""


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


def release_due(factory: sessionmaker[Session], *, now: datetime) -> int:
    """Publish incidents whose publication delay has passed; returns how many were released.

    The same periodic run closes the feed items of footage requests that expired.
    """
    released = 0
    with transaction(factory) as session:
        footage.close_expired(session, now=now)
        held = session.scalars(
            select(Incident).where(
                Incident.visibility == "withheld",
                Incident.occurred_at >= now - RELEASE_WINDOW,
                cast(Incident.visibility_reasons, String).like(f'["{gate.DELAYED}%'),
            )
        )
        sources = {s.id: s for s in session.scalars(select(Source))}
        for incident in held:
            source = sources.get(incident.source_id or -1)
            policy = policy_of(source).policy if source else default_policy()
            decision = gate.decide(
                policy,
                taxonomy.get(incident.category),
                incident.original_type,
                incident.occurred_at,
                now,
                incident.severity,
            )
            incident.visibility_reasons = list(decision.visibility_reasons)
            incident.alertable = decision.alertable
            incident.alertable_reasons = list(decision.alertable_reasons)
            if decision.visibility == "public":
                incident.visibility = "public"
                incident.published_at = incident.updated_at = now
                announce(session, "incident.published", {"id": incident.id})
                released += 1
    return released


def _find_source(session: Session, key: str) -> Source:
    where = Source.id == int(key) if key.isdecimal() and len(key) < 19 else Source.slug == key
    source = session.scalar(select(Source).where(where))
    if source is None:
        raise NotFound(f"source {key!r} not found")
    return source


def _figures(session: Session, source_id: int) -> Figures:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return Figures(
        public_incidents=count(
            Incident, Incident.source_id == source_id, Incident.visibility == "public"
        ),
        withheld_incidents=count(
            Incident, Incident.source_id == source_id, Incident.visibility == "withheld"
        ),
        quarantined_records=count(
            RawRecord, RawRecord.source_id == source_id, RawRecord.outcome == "quarantined"
        ),
    )


def source_manifest(session: Session, key: str) -> PolicyManifest:
    """The published redaction manifest of the source with this id or slug."""
    source = _find_source(session, key)
    agency = session.get_one(Agency, source.agency_id)
    ref = SourceRef(id=source.id, slug=source.slug, name=source.name, agency=agency.name)
    return manifest.build(ref, source.config, policy_of(source), _figures(session, source.id))
