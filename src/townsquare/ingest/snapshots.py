"""Snapshots of "active calls" sources: when one was taken, and whether to trust it.

An empty or truncated answer looks like a snapshot in which every call ended. Closing them
all would be wrong and loud (every follower told the call is over), so a snapshot that would
close more than `lifecycle.max_close_share` of the open calls at once (when at least
`lifecycle.guard_from_open` are open) while holding fewer records than the rest of them is
held back: its records are stored, nothing is closed, and the source's health says why (a
busy hour that replaces most calls with as many new ones is a real snapshot). The next
snapshot that passes closes what is really gone, at its own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from townsquare.db import utcnow
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import Source, SourceRecord
from townsquare.ingest.normalize import NormalizeError, parse_time
from townsquare.ingest.sources.base import RawItem

SUSPECT = "suspect snapshot held back"


def taken_at(config: SourceConfig, items: Sequence[RawItem]) -> datetime | None:
    """The snapshot's own time: the latest `lifecycle.snapshot_time` value of its records."""
    column = config.lifecycle.snapshot_time
    if column is None:
        return None
    spec = config.fields.occurred_at[0].for_column(column)
    zone = ZoneInfo(spec.time_zone or config.time_zone)
    found = []
    for item in items:
        value = (item.payload.get(column) or "").strip()
        if value:
            try:
                found.append(parse_time(value, spec, zone))
            except NormalizeError:
                continue
    return max(found, default=None)


def open_calls(session: Session, source: Source, moment: datetime) -> int:
    """How many records of the source are open at `moment` (counted before a snapshot)."""
    still_open = or_(SourceRecord.closed_at.is_(None), SourceRecord.closed_at > moment)
    found = session.scalar(
        select(func.count()).where(SourceRecord.source_id == source.id, still_open)
    )
    return found or 0


def suspect(
    session: Session,
    source: Source,
    config: SourceConfig,
    *,
    taken_at: datetime,
    records: int,
    open_before: int,
) -> str | None:
    """Why the snapshot at `taken_at` must not close anything, or None if it may.

    A held-back snapshot is noted on the source (its health shows it), without counting as a
    failed fetch.
    """
    rules = config.lifecycle
    still_open = or_(SourceRecord.closed_at.is_(None), SourceRecord.closed_at > taken_at)
    mine = SourceRecord.source_id == source.id
    if open_before < rules.guard_from_open:
        return None
    closing = (
        session.scalar(
            select(func.count()).where(mine, still_open, SourceRecord.seen_at < taken_at)
        )
        or 0
    )
    share = rules.max_close_share
    if closing <= share * open_before or records >= (1 - share) * open_before:
        return None
    reason = (
        f"{SUSPECT}: the snapshot of {taken_at.isoformat()} holds {records} records and would "
        f"close {closing} of {open_before} open calls (more than {rules.max_close_share:.0%}); "
        "nothing was closed"
    )
    source.last_error_at = utcnow()
    source.last_error = reason
    return reason
