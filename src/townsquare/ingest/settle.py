"""What a batch of normalized records decides as a whole, before anything is stored.

Normalizing is per record and pure; two things need the batch (and the store): the reading
of a local time that happens twice (ingest.ambiguity: snapshot time and id order) and the
point of a record given only by its address (ingest.geocoding: cached per address).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare.ingest import ambiguity
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.geocoding import Placer
from townsquare.ingest.models import Source, SourceRecord
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError


def settle(
    session: Session | None,
    source: Source | None,
    config: SourceConfig,
    found: Sequence[NormalizedRecord | NormalizeError],
    *,
    now: datetime,
    placer: Placer | None,
) -> list[NormalizedRecord | NormalizeError]:
    """What the batch as a whole decides: ambiguous local times, then points from addresses."""
    records = [r for r in found if isinstance(r, NormalizedRecord)]

    def previous(external_id: str) -> datetime | None:
        if session is None or source is None:
            return None
        found_at: datetime | None = session.scalar(
            select(SourceRecord.occurred_at)
            .where(SourceRecord.source_id == source.id, SourceRecord.external_id < external_id)
            .order_by(SourceRecord.external_id.desc())
            .limit(1)
        )
        return found_at

    records = ambiguity.resolve(records, taken_at=now, previous=previous)
    if any(r.point is None for r in records):
        placer = placer or Placer(config, None)
        placed: list[NormalizedRecord | NormalizeError] = placer.place(session, records, now=now)
    else:
        placed = list(records)
    settled = iter(placed)
    return [next(settled) if isinstance(r, NormalizedRecord) else r for r in found]
