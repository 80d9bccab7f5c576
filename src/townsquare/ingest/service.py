"""Ingestion actions: raw record -> normalize -> redact -> policy gate -> merge -> store -> outbox.

Adapters only yield raw items; this module validates, dedupes and stores them. Every raw
record is kept; one that cannot be normalized is quarantined with its field and reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare import geo, taxonomy
from townsquare.agencies.models import Agency
from townsquare.db import transaction, utcnow
from townsquare.errors import SourceError
from townsquare.events import announce
from townsquare.incidents.models import Incident
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import OUTCOMES, RawRecord, Source
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for
from townsquare.privacy import engine as privacy

log = logging.getLogger(__name__)

Retime = Callable[[datetime], datetime]
BATCH = 1000


@dataclass
class IngestReport:
    """What one run did, counted by outcome; printed by the CLI and logged."""

    source: str
    received: int = 0
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    withheld: int = 0
    quarantined: int = 0
    quarantined_by_field: Counter[str] = field(default_factory=Counter)
    replayed_ids: set[str] = field(default_factory=set, repr=False)

    def summary(self) -> str:
        """One line a person can read."""
        fields = ", ".join(f"{k} {v}" for k, v in sorted(self.quarantined_by_field.items()))
        return (
            f"{self.source}: {self.received} received, {self.unchanged} already stored, "
            f"{self.created} new incidents, {self.updated} updated, {self.merged} merged "
            f"into existing incidents, {self.withheld} withheld, {self.quarantined} quarantined"
            + (f" ({fields})" if fields else "")
        )


def content_hash(payload: dict[str, str]) -> str:
    """SHA-256 of a raw payload, independent of key order."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_source(session: Session, config: SourceConfig) -> Source:
    """The stored Source (and its Agency) for `config`, created or refreshed."""
    agency = session.scalar(select(Agency).where(Agency.slug == config.agency.slug))
    if agency is None:
        agency = Agency(
            slug=config.agency.slug, name=config.agency.name, time_zone=config.time_zone
        )
        session.add(agency)
        session.flush()
    source = session.scalar(select(Source).where(Source.slug == config.slug))
    if source is None:
        source = Source(
            slug=config.slug, agency_id=agency.id, name=config.name, kind=config.kind, config={}
        )
        session.add(source)
    source.name = config.name
    source.kind = config.kind
    source.config = config.model_dump(mode="json")
    session.flush()
    return source


def ingest(
    factory: sessionmaker[Session],
    config: SourceConfig,
    *,
    now: datetime | None = None,
    retime: Retime | None = None,
) -> IngestReport:
    """Fetch a source and store what it holds; a failed fetch is recorded on the source."""
    with transaction(factory) as session:
        source_id = ensure_source(session, config).id
    try:
        items = list(adapter_for(config.kind).fetch(config))
    except (OSError, SourceError) as exc:
        with transaction(factory) as session:
            source = session.get_one(Source, source_id)
            source.last_error_at = utcnow()
            source.last_error = str(exc)
        raise SourceError(f"{config.slug}: {exc}") from exc
    report = IngestReport(config.slug)
    for start in range(0, len(items), BATCH):
        with transaction(factory) as session:
            source = session.get_one(Source, source_id)
            store_items(
                session,
                source,
                config,
                items[start : start + BATCH],
                report,
                now=now or utcnow(),
                retime=retime,
            )
    with transaction(factory) as session:
        session.get_one(Source, source_id).last_success_at = utcnow()
    log.info("ingest finished", extra={"report": report.summary()})
    return report


@dataclass
class _Batch:
    """Rows one batch touches, so a batch costs a few queries and one flush, not per record."""

    incidents: dict[str, Incident]
    links: list[tuple[RawRecord, Incident]] = field(default_factory=list)
    topics: dict[int, tuple[Incident, str]] = field(default_factory=dict)

    def announce(self, incident: Incident, topic: str) -> None:
        """Remember to announce `incident`; a creation stays a creation within the batch."""
        previous = self.topics.get(id(incident))
        if previous and previous[1] == "incident.published" and topic == "incident.updated":
            return
        self.topics[id(incident)] = (incident, topic)


def store_items(
    session: Session,
    source: Source,
    config: SourceConfig,
    items: Iterable[RawItem],
    report: IngestReport,
    *,
    now: datetime,
    retime: Retime | None = None,
) -> None:
    """Keep each raw item and apply it; with `retime` already-seen items are re-applied (replay)."""
    pending = [(item, content_hash(item.payload)) for item in items]
    known = {
        raw.content_hash: raw
        for raw in session.scalars(
            select(RawRecord).where(
                RawRecord.source_id == source.id,
                RawRecord.content_hash.in_({digest for _, digest in pending}),
            )
        )
    }
    todo: list[tuple[RawRecord, NormalizedRecord]] = []
    for item, digest in pending:
        report.received += 1
        raw = known.get(digest)
        if raw is not None and retime is None:
            report.unchanged += 1
            continue
        if raw is None:
            raw = RawRecord(
                source_id=source.id,
                position=item.position,
                content_hash=digest,
                payload=json.dumps(item.payload, ensure_ascii=False),
                received_at=now,
                outcome="quarantined",
                error="not yet processed",
            )
            session.add(raw)
            known[digest] = raw
        try:
            record = normalize(item, config)
        except NormalizeError as exc:
            raw.outcome, raw.error_field, raw.error = "quarantined", exc.field, str(exc)
            report.quarantined += 1
            report.quarantined_by_field[exc.field] += 1
            continue
        todo.append((raw, _retimed(record, retime) if retime else record))

    external_ids = {record.external_id for _, record in todo}
    batch = _Batch(
        {
            i.external_id or "": i
            for i in session.scalars(
                select(Incident).where(
                    Incident.source_id == source.id, Incident.external_id.in_(external_ids)
                )
            )
        }
    )
    for raw, record in todo:
        raw.external_id = record.external_id
        incident, change = _apply(
            session,
            batch,
            source,
            config,
            record,
            now=now,
            replay=retime is not None,
            replayed=report.replayed_ids,
        )
        raw.outcome = "withheld" if incident.visibility == "withheld" else "normalized"
        raw.error_field = raw.error = None
        batch.links.append((raw, incident))
        if incident.visibility == "withheld" and change == "created":
            report.withheld += 1
        setattr(report, change, getattr(report, change) + 1)
    session.flush()
    for raw, incident in batch.links:
        raw.incident_id = incident.id
    for incident, topic in batch.topics.values():
        announce(session, topic, {"id": incident.id})


def _retimed(record: NormalizedRecord, retime: Retime) -> NormalizedRecord:
    return replace(record, occurred_at=retime(record.occurred_at))


def _incident_hash(record: NormalizedRecord, block: str | None, point: geo.Point) -> str:
    text = "|".join(
        [
            record.category,
            record.original_type,
            block or "",
            f"{point.lat:.6f},{point.lon:.6f}",
            record.occurred_at.isoformat(),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _apply(
    session: Session,
    batch: _Batch,
    source: Source,
    config: SourceConfig,
    record: NormalizedRecord,
    *,
    now: datetime,
    replay: bool,
    replayed: set[str],
) -> tuple[Incident, str]:
    """Create or update the incident for `record`; returns it and 'created'/'updated'/'merged'."""
    incident = batch.incidents.get(record.external_id)
    if incident is not None and replay and record.external_id in replayed:
        return incident, "merged"  # another unit of a call this replay already re-timed
    replayed.add(record.external_id)
    if incident is not None and not replay:
        _merge_unit(batch, incident, config, record, now=now)
        return incident, "merged"
    rules = privacy.policy_for(config)
    category = taxonomy.get(record.category)
    public_point = privacy.public_point(record.point, rules)
    block = privacy.public_address(record.address, rules)
    digest = _incident_hash(record, block, public_point)
    change = "created"
    if incident is None:
        incident = Incident(
            origin="dispatch",
            source_id=source.id,
            external_id=record.external_id,
            agency_id=source.agency_id,
            unit_count=1,
            status="active",
        )
        session.add(incident)
        batch.incidents[record.external_id] = incident
    elif incident.content_hash == digest:
        return incident, "unchanged"
    else:
        change = "updated"
    was_public = change == "updated" and incident.visibility == "public"
    decision = privacy.decide(
        rules, category, record.original_type, record.occurred_at, now, category.severity
    )
    cells = geo.cells_of(public_point)
    incident.category = category.code
    incident.original_type = privacy.public_text(record.original_type, rules)
    incident.title = privacy.public_text(record.original_type, rules)
    incident.summary = _summary(config, incident.unit_count)
    incident.address_block = block
    incident.lat, incident.lon = public_point.lat, public_point.lon
    incident.h3_r5, incident.h3_r7, incident.h3_r9 = cells[5], cells[7], cells[9]
    incident.occurred_at = record.occurred_at
    incident.published_at = min(now, record.occurred_at) if replay else now
    incident.updated_at = now
    incident.severity = category.severity
    incident.visibility = decision.visibility
    incident.visibility_reasons = list(decision.visibility_reasons)
    incident.alertable = decision.alertable
    incident.alertable_reasons = list(decision.alertable_reasons)
    incident.content_hash = digest
    if incident.visibility == "public":
        batch.announce(
            incident, "incident.published" if change == "created" else "incident.updated"
        )
    elif was_public:
        batch.announce(incident, "incident.removed")
    return incident, change


def _merge_unit(
    batch: _Batch,
    incident: Incident,
    config: SourceConfig,
    record: NormalizedRecord,
    *,
    now: datetime,
) -> None:
    """Another unit on the same call: count it; the call started at its earliest time."""
    incident.unit_count += 1
    incident.summary = _summary(config, incident.unit_count)
    incident.updated_at = now
    if record.occurred_at < incident.occurred_at:
        incident.occurred_at = record.occurred_at
        category = taxonomy.get(incident.category)
        decision = privacy.decide(
            privacy.policy_for(config),
            category,
            incident.original_type,
            incident.occurred_at,
            now,
            incident.severity,
        )
        incident.alertable = decision.alertable
        incident.alertable_reasons = list(decision.alertable_reasons)
    if incident.visibility == "public":
        batch.announce(incident, "incident.updated")


def _summary(config: SourceConfig, units: int) -> str:
    noun = "unit" if units == 1 else "units"
    return f"{config.agency.name} dispatched {units} {noun}."


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What an operator sees of one source."""

    slug: str
    name: str
    kind: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    counts: dict[str, int]
    incidents: int


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
    return [
        SourceHealth(
            s.slug,
            s.name,
            s.kind,
            s.last_success_at,
            s.last_error_at,
            s.last_error,
            counts.get(s.id, dict.fromkeys(OUTCOMES, 0)),
            incidents.get(s.id, 0),
        )
        for s in session.scalars(select(Source).order_by(Source.slug))
    ]
