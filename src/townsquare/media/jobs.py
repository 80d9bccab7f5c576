"""The media job: make the derivatives of the photos and clips uploads left `processing`.

A clip takes a tenth to a third of a second of CPU per frame, so a minute of video would hold
an upload open for minutes; a photo is decoded and searched for faces within a bounded amount
of memory, and the job makes that bound hold for the node: each job decodes one photo at a
time, however many uploads arrive at once. The upload stores the original and returns; any
node's job claims one upload at a time by stamping `claimed_at` (a conditional UPDATE, so two
nodes never take the same one), makes the derivative with no transaction open, and writes the
outcome. A claim older than LEASE is taken over, so a node that died mid-clip (or an
unexpected error) delays it but does not lose it; after MAX_ATTEMPTS claims it is marked
failed, not retried for ever. An upload that cannot be decoded fails at once, with the reason
its owner is shown.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, PayloadTooLarge
from townsquare.incidents import attachments
from townsquare.media import clips, images
from townsquare.media.intake import work_root
from townsquare.media.models import Media
from townsquare.media.retention import erase_unreferenced
from townsquare.media.service import store_of
from townsquare.media.storage import BlobStore
from townsquare.settings import Settings

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # far above the longest clip's processing on a small machine
MAX_ATTEMPTS = 3


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        Media.state == "processing", or_(Media.claimed_at.is_(None), Media.claimed_at < now - LEASE)
    )


def claim(session: Session, now: datetime) -> Media | None:
    """Take the oldest upload waiting to be processed, or None; committed before returning."""
    for media_id in session.scalars(
        select(Media.id).where(_claimable(now)).order_by(Media.id).limit(5)
    ):
        taken = session.execute(
            update(Media)
            .where(Media.id == media_id, _claimable(now))
            .values(claimed_at=now, attempts=Media.attempts + 1)
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return session.get_one(Media, media_id)
    return None


def _finish(session: Session, row: Media, claimed_at: datetime, **values: object) -> bool:
    """Write the outcome if the upload is still ours (not deleted, not taken over)."""
    done = session.execute(
        update(Media)
        .where(Media.id == row.id, Media.state == "processing", Media.claimed_at == claimed_at)
        .values(claimed_at=None, **values)
    )
    kept = bool(done.rowcount == 1)  # type: ignore[attr-defined]
    if kept and values.get("state") == "ready":  # a public incident may show it from now on
        attachments.announce_ready(session, row.id)
    session.commit()
    return kept


def process(
    session: Session,
    settings: Settings,
    row: Media,
    stopping: Callable[[], bool] = lambda: False,
) -> str:
    """Make a claimed upload's derivative and record it; returns the state it ended in.

    When `stopping` says yes mid-clip, the clip is let go unprocessed for the next job.
    """
    store = store_of(settings)
    claimed_at = row.claimed_at
    assert claimed_at is not None
    if row.original_key is None:
        _finish(session, row, claimed_at, state="failed", error="the original has expired")
        return "failed"
    root = work_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root))
    try:
        made = _derivative(store, settings, row, work / "public.mp4", stopping)
    except clips.Cancelled:
        _finish(session, row, claimed_at, attempts=Media.attempts - 1)
        return "processing"
    except (InvalidParameter, PayloadTooLarge) as exc:  # the upload itself is at fault
        error = exc.detail.removeprefix("file: ")[:300]
        _finish(session, row, claimed_at, state="failed", error=error)
        return "failed"
    except Exception:
        log.exception("media %s: processing failed (attempt %s)", row.id, row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            error = f"processing failed {row.attempts} times"
            _finish(session, row, claimed_at, state="failed", error=error)
            return "failed"
        return "processing"  # still claimed: tried again once the claim is LEASE old
    finally:
        shutil.rmtree(work, ignore_errors=True)
    key = str(made.pop("public_key"))
    kept = _finish(session, row, claimed_at, state="ready", error=None, public_key=key, **made)
    if not kept:  # deleted or taken over meanwhile: drop our copy unless it is named
        erase_unreferenced(session, store, {key})
        return "dropped"
    log.info("media %s: %s ready, %s regions blurred", row.id, row.kind, made["blurred_regions"])
    return "ready"


def _derivative(
    store: BlobStore, settings: Settings, row: Media, dest: Path, stopping: Callable[[], bool]
) -> dict[str, object]:
    """Make and store the derivative of a claimed upload; the columns to write."""
    assert row.original_key is not None
    with store.local_copy(row.original_key, dest.parent) as source:
        return _made(store, settings, row, source, dest, stopping)


def _made(
    store: BlobStore,
    settings: Settings,
    row: Media,
    source: Path,
    dest: Path,
    stopping: Callable[[], bool],
) -> dict[str, object]:
    if row.kind == "photo":
        photo = images.public_photo(source, settings.media_max_pixels)
        return {
            "public_key": store.put(photo.data),
            "public_type": "image/jpeg",
            "width": photo.width,
            "height": photo.height,
            "blurred_regions": photo.regions,
        }
    public = clips.public_clip(
        source, dest, settings.media_max_video_s, settings.media_max_pixels, stopping
    )
    return {
        "public_key": store.put_file(public.path),
        "public_type": "video/mp4",
        "width": public.width,
        "height": public.height,
        "duration_s": public.duration_s,
        "blurred_regions": public.regions,
    }


def process_pending(
    factory: sessionmaker[Session],
    settings: Settings,
    stopping: Callable[[], bool] = lambda: False,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Process uploads until none waits or `stopping` says so; returns how many it took."""
    taken = 0
    while not stopping():
        with factory() as session:
            row = claim(session, now())
            if row is None:
                break
            process(session, settings, row, stopping)
            taken += 1
    return taken
