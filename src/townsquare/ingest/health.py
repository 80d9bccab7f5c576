"""Source health: what an operator sees of each feed (CLI `sources list`, GET /api/v1/sources)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare.errors import NotFound
from townsquare.incidents.models import Incident
from townsquare.ingest.models import OUTCOMES, RawRecord, Source, SourceRecord


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What an operator sees of one source."""

    slug: str
    name: str
    kind: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    failures: int
    """Consecutive failed fetches."""
    circuit_open_until: datetime | None
    counts: dict[str, int]
    incidents: int
    unknown_types: int
    """Distinct call types not in the mapping, held back from alerts."""

    def lag_s(self, now: datetime) -> float | None:
        """Seconds since the last successful fetch, or None if there was none."""
        return (
            None if self.last_success_at is None else (now - self.last_success_at).total_seconds()
        )

    def state(self, now: datetime) -> str:
        """ok, failing, open (the breaker waits) or new (never fetched)."""
        if self.circuit_open_until is not None and self.circuit_open_until > now:
            return "open"
        if self.failures:
            return "failing"
        return "ok" if self.last_success_at else "new"


def list_sources(session: Session) -> list[SourceHealth]:
    """Every source with its health and record counts per outcome."""
    counts: dict[int, dict[str, int]] = {}
    for source_id, outcome, n in session.execute(
        select(RawRecord.source_id, RawRecord.outcome, func.count()).group_by(
            RawRecord.source_id, RawRecord.outcome
        )
    ):
        counts.setdefault(source_id, dict.fromkeys(OUTCOMES, 0))[outcome] = n
    incidents: dict[int | None, int] = {
        source_id: n
        for source_id, n in session.execute(
            select(Incident.source_id, func.count()).group_by(Incident.source_id)
        )
    }
    unknown: dict[int, int] = {
        source_id: n
        for source_id, n in session.execute(
            select(SourceRecord.source_id, func.count(func.distinct(SourceRecord.original_type)))
            .where(SourceRecord.mapped.is_(False))
            .group_by(SourceRecord.source_id)
        )
    }
    return [
        SourceHealth(
            s.slug,
            s.name,
            s.kind,
            s.last_success_at,
            s.last_error_at,
            s.last_error,
            s.failures or 0,
            s.circuit_open_until,
            counts.get(s.id, dict.fromkeys(OUTCOMES, 0)),
            incidents.get(s.id, 0),
            unknown.get(s.id, 0),
        )
        for s in session.scalars(select(Source).order_by(Source.slug))
    ]


def unknown_types(session: Session, slug: str) -> list[tuple[str, int]]:
    """Call types of a source not in its mapping, with how many records carry each."""
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        raise NotFound(f"source {slug!r} not found")
    rows = session.execute(
        select(SourceRecord.original_type, func.count())
        .where(SourceRecord.source_id == source.id, SourceRecord.mapped.is_(False))
        .group_by(SourceRecord.original_type)
        .order_by(func.count().desc(), SourceRecord.original_type)
    )
    return [(call_type, n) for call_type, n in rows]
