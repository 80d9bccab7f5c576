"""Ingestion actions: raw record -> normalize -> redact -> policy gate -> merge -> store -> outbox.

Adapters only yield raw items; this module validates, dedupes and stores them. Every raw
record is kept; one that cannot be normalized is quarantined with its field and reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from townsquare import geo
from townsquare.agencies.models import Agency
from townsquare.db import transaction, utcnow
from townsquare.errors import SourceError
from townsquare.ingest import bulk, lifecycle, refers, snapshots
from townsquare.ingest.columnar.pages import fetch as columnar_fetch
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.geocoding import Placer
from townsquare.ingest.models import RawRecord, Source
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.policy import policy_for
from townsquare.ingest.settle import settle
from townsquare.ingest.sources import http
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for
from townsquare.places.service import Geocoder
from townsquare.privacy import engine as privacy
from townsquare.privacy.policy import Policy

log = logging.getLogger(__name__)
_quoted = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str

Retime = Callable[[datetime], datetime]
_Row = TypeVar("_Row", Agency, Source)
BATCH = 1000
UNREADABLE_SHOWN = 10
"""How many unreadable records a report names (the count has them all)."""


@dataclass
class IngestReport:
    """What one run did, counted by outcome; printed by the CLI and logged."""

    source: str
    received: int = 0
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    stale: int = 0
    closed: int = 0
    withheld: int = 0
    quarantined: int = 0
    quarantined_by_field: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)
    """"record: why" for the first records that could not be read at all (nested too deep)."""
    suspect: str | None = None
    """Why a snapshot was held back (it would close too many open calls); None: it was not."""

    def summary(self) -> str:
        """One line a person can read."""
        fields = ", ".join(f"{k} {v}" for k, v in sorted(self.quarantined_by_field.items()))
        return (
            f"{self.source}: {self.received} received, {self.unchanged} already stored, "
            f"{self.created} new incidents, {self.updated} updated, {self.merged} merged "
            f"into existing incidents, {self.stale} older versions ignored, {self.closed} closed, "
            f"{self.withheld} withheld, {self.quarantined} quarantined"
            + (f" ({fields})" if fields else "")
            + (f"; {self.suspect}" if self.suspect else "")
        )


def content_hash(payload: dict[str, str]) -> str:
    """SHA-256 of a raw payload, independent of key order.

    The hashed text is `json.dumps(payload, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`; for the usual payload of strings it is built directly from the
    encoder's string function, which skips building a JSON encoder per record (a third of
    the cost of reading a record). Stored hashes depend on this text: it must not change.
    """
    try:
        text = "{" + ",".join([_key(k) + _quoted(payload[k]) for k in sorted(payload)]) + "}"
    except TypeError:  # a key or a value that is not a string: the general encoder
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_KEYS: dict[str, str] = {}


def _key(name: str) -> str:
    """`"name":` as the JSON text spells it; column names repeat, so they are kept (bounded)."""
    found = _KEYS.get(name)
    if found is None:
        found = _quoted(name) + ":"
        if len(_KEYS) < 4096:
            _KEYS[name] = found
    return found


def ensure_source(session: Session, config: SourceConfig) -> Source:
    """The stored Source (and its Agency) for `config`, created or refreshed.

    Two workers may register sources of one agency at once: the loser of the insert race
    finds the winner's row instead of failing.
    """
    agency = _get_or_create(
        session,
        select(Agency).where(Agency.slug == config.agency.slug),
        lambda: Agency(
            slug=config.agency.slug, name=config.agency.name, time_zone=config.time_zone
        ),
    )
    source = _get_or_create(
        session,
        select(Source).where(Source.slug == config.slug),
        lambda: Source(
            slug=config.slug, agency_id=agency.id, name=config.name, kind=config.kind, config={}
        ),
    )
    source.name = config.name
    source.kind = config.kind
    source.config = config.model_dump(mode="json")
    session.flush()
    return source


def _get_or_create(session: Session, query: Select[_Row], make: Callable[[], _Row]) -> _Row:
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = make()
            session.add(row)
        return row
    except IntegrityError:
        found = session.scalar(query)
        assert found is not None  # the other insert committed
        return found


def ingest(
    factory: sessionmaker[Session],
    config: SourceConfig,
    *,
    now: datetime | None = None,
    retime: Retime | None = None,
    geocoder: Geocoder | None = None,
) -> IngestReport:
    """Fetch a source and store what it holds; a failed fetch is recorded on the source."""
    return ingest_items(factory, config, _fetch(config), now=now, retime=retime, geocoder=geocoder)


def _fetch(config: SourceConfig) -> Iterator[RawItem]:
    # A generator, so that even an adapter that reads eagerly fails inside ingest_items,
    # where the failure is recorded on the source.
    # Files and pages an adapter reads as columns are normalized column by column.
    yield from columnar_fetch(adapter_for(config.kind), config)


def ingest_items(
    factory: sessionmaker[Session],
    config: SourceConfig,
    items: Iterable[RawItem],
    *,
    now: datetime | None = None,
    retime: Retime | None = None,
    geocoder: Geocoder | None = None,
) -> IngestReport:
    """Store `items` batch by batch; a fault mid-way keeps every batch stored before it.

    A snapshot source ([lifecycle] snapshot) closes the calls missing from the items only
    once all of them were read: an interrupted fetch closes nothing, and a snapshot that
    would close too many open calls at once is held back as suspect (ingest.snapshots).
    Calls are closed at the snapshot's own time when `lifecycle.snapshot_time` gives it.
    """
    moment = now or utcnow()
    snapshot = config.lifecycle.snapshot and retime is None
    placer = Placer(config, geocoder)
    if snapshot and config.lifecycle.snapshot_time:
        items = list(items)  # the snapshot's time is known once every record is read
        moment = snapshots.taken_at(config, items) or moment
    with transaction(factory) as session:
        source = ensure_source(session, config)
        source_id = source.id
        following = lifecycle.next_snapshot_after(session, source, moment) if snapshot else None
        open_before = snapshots.open_calls(session, source, moment) if snapshot else 0
    report = IngestReport(config.slug)

    def store(chunk: list[RawItem]) -> None:
        with transaction(factory) as session:
            store_items(
                session,
                session.get_one(Source, source_id),
                config,
                chunk,
                report,
                now=moment,
                retime=retime,
                snapshot_at=moment if snapshot else None,
                next_snapshot=following,
                placer=placer,
            )

    chunk: list[RawItem] = []
    try:
        for item in items:
            chunk.append(item)
            if len(chunk) == BATCH:
                store(chunk)
                chunk = []
    except (OSError, SourceError) as exc:
        if chunk:  # what was read before the fault is kept; nothing is closed
            store(chunk)
        record_failure(factory, source_id, str(exc))
        raise SourceError(f"{config.slug}: {exc}") from exc
    if chunk:
        store(chunk)
    with transaction(factory) as session:
        source = session.get_one(Source, source_id)
        if snapshot and following is None:  # an older snapshot arriving late is not judged
            report.suspect = snapshots.suspect(
                session,
                source,
                config,
                taken_at=moment,
                records=report.received,
                open_before=open_before,
            )
        if snapshot and report.suspect is None:
            closed = lifecycle.close_missing(
                session, source, config, taken_at=moment, records=report.received
            )
            report.closed += closed.closed
        source.last_success_at = utcnow()
        source.failures = 0
        source.circuit_open_until = None
    log.info("ingest finished", extra={"report": report.summary()})
    return report


def poll(
    factory: sessionmaker[Session],
    config: SourceConfig,
    *,
    now: datetime | None = None,
    geocoder: Geocoder | None = None,
) -> IngestReport | None:
    """One conditional fetch (ETag / If-Modified-Since kept on the source); None: unchanged."""
    with transaction(factory) as session:
        source = ensure_source(session, config)
        source_id, cursor = source.id, dict(source.cursor or {})
    try:
        with http.conditional(cursor):
            report = ingest(factory, config, now=now, geocoder=geocoder)
    except http.NotModified:
        report = None
    with transaction(factory) as session:
        source = session.get_one(Source, source_id)
        source.cursor = cursor
        if report is None:
            source.last_success_at = utcnow()
            source.failures = 0
            source.circuit_open_until = None
    return report


def record_failure(
    factory: sessionmaker[Session],
    source_id: int,
    error: str,
    *,
    open_until: datetime | None = None,
) -> None:
    """Note a failed fetch on the source (health), and when its circuit breaker reopens."""
    with transaction(factory) as session:
        source = session.get_one(Source, source_id)
        source.last_error_at = utcnow()
        source.last_error = error[:2000]
        source.failures = (source.failures or 0) + 1
        if open_until is not None:
            source.circuit_open_until = open_until


def store_items(
    session: Session,
    source: Source,
    config: SourceConfig,
    items: Iterable[RawItem],
    report: IngestReport,
    *,
    now: datetime,
    retime: Retime | None = None,
    snapshot_at: datetime | None = None,
    next_snapshot: datetime | None = None,
    placer: Placer | None = None,
) -> None:
    """Keep each raw item and apply it; with `retime` already-seen items are re-applied (replay).

    In a snapshot, an item already stored is still applied, so its call counts as seen.
    """
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
    again = retime is not None or snapshot_at is not None
    read: list[
        tuple[RawItem, RawRecord, bool, NormalizedRecord | NormalizeError, refers.Closing | None]
    ] = []
    closings: list[tuple[RawRecord, refers.Closing, NormalizeError | None]] = []
    fresh: list[RawRecord] = []
    for item, digest in pending:
        report.received += 1
        raw = known.get(digest)
        seen = raw is not None
        if raw is not None and not again:
            report.unchanged += 1
            continue
        if raw is None:
            raw = bulk.fresh(
                RawRecord,
                {
                    "source_id": source.id,
                    "position": item.position,
                    "content_hash": digest,
                    "payload": json.dumps(item.payload, ensure_ascii=False),
                    "received_at": now,
                    "outcome": "quarantined",
                    "error": "not yet processed",
                },
            )
            fresh.append(raw)  # inserted once decided, with the batch's others (ingest.bulk)
            known[digest] = raw
        closing = refers.closing_of(item, config, retime)
        try:
            read.append((item, raw, seen, normalize(item, config), closing))
        except NormalizeError as exc:
            if closing is not None:  # a Cancel with no info still closes what it references
                closings.append((raw, closing, None if seen else exc))
                report.unchanged += int(seen)
                continue
            read.append((item, raw, seen, exc, None))
    results = settle(
        session, source, config, [r[3] for r in read], now=snapshot_at or now, placer=placer
    )
    todo: list[tuple[RawRecord, NormalizedRecord, bool]] = []
    for (item, raw, seen, _, closing), record in zip(read, results, strict=True):
        if isinstance(record, NormalizeError):
            if closing is not None:  # placed nowhere, but it still closes what it references
                closings.append((raw, closing, None if seen else record))
                report.unchanged += int(seen)
                continue
            if not seen:
                quarantine(raw, record, report)
                if item.defect_field is not None and len(report.unreadable) < UNREADABLE_SHOWN:
                    report.unreadable.append(f"{item.position}: {record}")
            else:
                report.unchanged += 1
            continue
        todo.append((raw, _retimed(record, retime) if retime else record, seen))
        if closing is not None:
            closings.append((raw, closing, None))
    public = Publicizer(policy_for(config))
    versions = [public_version(record, public.rules, now, public) for _, record, _ in todo]
    outcome = lifecycle.apply_versions(
        session,
        source,
        config,
        versions,
        now=now,
        replay=retime is not None,
        next_snapshot=next_snapshot,
        snapshot_at=snapshot_at,
    )
    session.flush()
    for (raw, record, seen), incident, change in zip(
        todo, outcome.incidents, outcome.changes, strict=True
    ):
        bulk.assign(
            raw,
            {
                "external_id": record.external_id,
                "outcome": "withheld" if incident.visibility == "withheld" else "normalized",
                "error_field": None,
                "error": None,
                "incident_id": incident.id,
            },
        )
        if seen and retime is None:
            change = "unchanged"  # the same bytes again in a snapshot: only seen again
        setattr(report, change, getattr(report, change) + 1)
    report.withheld += outcome.withheld
    report.closed += outcome.closed
    for raw, closing, fault in closings:
        closed, field_at_fault = refers.settle(
            session, source, config, raw, closing, fault, now=now
        )
        report.closed += closed
        if field_at_fault is not None:
            report.quarantined += 1
            report.quarantined_by_field[field_at_fault] += 1
        elif fault is not None:
            report.updated += 1
    bulk.insert_rows(session, fresh)


def quarantine(raw: RawRecord, error: NormalizeError, report: IngestReport) -> None:
    """Mark a raw record quarantined with its field and reason, and count it."""
    raw.outcome, raw.error_field, raw.error = "quarantined", error.field, str(error)
    report.quarantined += 1
    report.quarantined_by_field[error.field] += 1


def _retimed(record: NormalizedRecord, retime: Retime) -> NormalizedRecord:
    def moved(moment: datetime | None) -> datetime | None:
        return None if moment is None else retime(moment)

    return replace(
        record,
        occurred_at=retime(record.occurred_at),
        cleared_at=moved(record.cleared_at),
        version_at=moved(record.version_at),
        expires_at=moved(record.expires_at),
    )


class Publicizer:
    """The privacy stage's answers for one batch, each worked out once.

    The units of a call share its type, address and point, and a snapshot repeats its open
    calls: the scrub and the block address cost more than the rest of a record.
    """

    def __init__(self, rules: Policy) -> None:
        self.rules = rules
        self.texts: dict[str, str] = {}
        self.addresses: dict[str | None, str | None] = {}
        self.points: dict[geo.Point, geo.Point] = {}

    def text(self, text: str) -> str:
        """`privacy.public_text` of `text`."""
        found = self.texts.get(text)
        if found is None:
            found = self.texts[text] = privacy.public_text(text, self.rules)
        return found

    def address(self, address: str | None) -> str | None:
        """`privacy.public_address` of `address`."""
        if address in self.addresses:
            return self.addresses[address]
        found = self.addresses[address] = privacy.public_address(address, self.rules)
        return found

    def point(self, point: geo.Point) -> geo.Point:
        """`privacy.public_point` of `point`."""
        found = self.points.get(point)
        if found is None:
            found = self.points[point] = privacy.public_point(point, self.rules)
        return found


def public_version(
    record: NormalizedRecord,
    rules: Policy,
    received_at: datetime,
    public: Publicizer | None = None,
) -> lifecycle.Version:
    """The record as it may be public: the privacy stage runs here, before anything is kept."""
    public = public or Publicizer(rules)
    assert record.point is not None  # placed by settle() before any version is made
    return lifecycle.Version(
        key=record.key,
        external_id=record.external_id,
        unit=record.unit,
        scene=record.scene,
        category=record.category,
        mapped=record.mapped,
        original_type=public.text(record.original_type),
        address_block=public.address(record.address),
        point=public.point(record.point),
        precision=record.precision,
        occurred_at=record.occurred_at,
        version_at=record.version_at or received_at,
        cleared_at=record.cleared_at or _expired(record, received_at),
        seen_at=received_at,
        severity=record.severity,
        expires_at=record.expires_at,
        summary=public.text(record.summary) if record.summary else None,
    )


def _expired(record: NormalizedRecord, now: datetime) -> datetime | None:
    """A record whose expiry has already passed is closed at it (not before its own time)."""
    if record.expires_at is None or record.expires_at > now:
        return None
    return max(record.expires_at, record.occurred_at)
