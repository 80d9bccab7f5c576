"""Source health: what an operator sees of each feed (CLI `sources list`, GET /api/v1/sources).

Anyone may see that a feed exists and whether it is ok, lagging or failing; the rest (error
texts, locations, counts, lag) is for operators only: `source_list` decides which by the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare.accounts.schemas import Actor
from townsquare.agencies.models import Agency
from townsquare.errors import NotFound
from townsquare.incidents.models import Incident
from townsquare.ingest.models import OUTCOMES, RawRecord, Source, SourceRecord
from townsquare.ingest.schemas import SourceDetail, SourcePublic, State, Status

LAGGING_POLLS = 3
"""A polled source with no successful fetch for this many intervals is lagging."""


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What an operator sees of one source."""

    slug: str
    name: str
    kind: str
    agency: str
    location: str
    poll_interval_s: int | None
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

    def state(self, now: datetime) -> State:
        """ok, failing, open (the breaker waits) or new (never fetched)."""
        if self.circuit_open_until is not None and self.circuit_open_until > now:
            return "open"
        if self.failures:
            return "failing"
        return "ok" if self.last_success_at else "new"

    def status(self, now: datetime) -> Status:
        """The coarse public status: ok, lagging (polls overdue) or failing."""
        if self.failures or (self.circuit_open_until is not None and self.circuit_open_until > now):
            return "failing"
        if self.poll_interval_s:
            overdue = timedelta(seconds=self.poll_interval_s * LAGGING_POLLS)
            if self.last_success_at is None or now - self.last_success_at > overdue:
                return "lagging"
        return "ok"


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
    agencies = {row.id: row.name for row in session.execute(select(Agency.id, Agency.name))}
    return [
        SourceHealth(
            s.slug,
            s.name,
            s.kind,
            agencies.get(s.agency_id, ""),
            str(s.config.get("location") or ""),
            _interval(s.config),
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


def _interval(config: dict[str, object]) -> int | None:
    value = config.get("poll_interval_s")
    return value if isinstance(value, int) and value > 0 else None


def source_list(
    session: Session, *, actor: Actor | None, now: datetime
) -> list[SourceDetail] | list[SourcePublic]:
    """Every source: in detail for an operator, else name, kind, agency and coarse status."""
    rows = list_sources(session)
    if actor is not None and actor.has("operator"):
        return [detail(row, now) for row in rows]
    return [
        SourcePublic(
            slug=row.slug, name=row.name, kind=row.kind, agency=row.agency, status=row.status(now)
        )
        for row in rows
    ]


def detail(row: SourceHealth, now: datetime) -> SourceDetail:
    """Everything an operator sees of one source."""
    return SourceDetail(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        agency=row.agency,
        status=row.status(now),
        state=row.state(now),
        location=row.location,
        poll_interval_s=row.poll_interval_s,
        last_success_at=row.last_success_at,
        lag_s=row.lag_s(now),
        last_error_at=row.last_error_at,
        last_error=row.last_error,
        failures=row.failures,
        circuit_open_until=row.circuit_open_until,
        records=row.counts,
        incidents=row.incidents,
        unknown_call_types=row.unknown_types,
    )


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


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One record a source delivered that could not be normalized: where, and why."""

    position: str
    external_id: str | None
    received_at: datetime
    field: str | None
    error: str


def quarantined(session: Session, slug: str, limit: int = 100) -> list[Quarantined]:
    """A source's quarantined records, newest first, with the field and error of each (never
    the payload, which may name people)."""
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        raise NotFound(f"source {slug!r} not found")
    rows = session.scalars(
        select(RawRecord)
        .where(RawRecord.source_id == source.id, RawRecord.outcome == "quarantined")
        .order_by(RawRecord.received_at.desc(), RawRecord.id.desc())
        .limit(limit)
    )
    return [
        Quarantined(r.position, r.external_id, r.received_at, r.error_field, r.error or "")
        for r in rows
    ]
