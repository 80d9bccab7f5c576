"""Re-normalizing a source's stored raw records after its mapping was fixed.

Every raw record of the source, quarantined ones included, goes through the (new) mapping
again at the time it was received: per call only its newest version is applied, replacing
what the old mapping made of it, so running it twice changes nothing the second time.
A record the new mapping places is published as of when it arrived; one it still cannot
normalize stays quarantined with the new reason. Open/closed states of snapshot sources are
kept: a newly placed record of a snapshot is open until the first snapshot after it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import groupby

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.db import transaction
from townsquare.errors import NotFound
from townsquare.ingest import lifecycle
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.geocoding import Placer
from townsquare.ingest.models import GeocodeCache, RawRecord, Source
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.policy import policy_for
from townsquare.ingest.service import ensure_source, public_version
from townsquare.ingest.settle import settle
from townsquare.ingest.sources.base import RawItem
from townsquare.places.service import Geocoder


@dataclass
class ReprocessReport:
    """What re-normalizing changed, counted per raw record."""

    source: str
    records: int = 0
    unchanged: int = 0
    updated: int = 0
    placed: int = 0
    """Quarantined before, normalized now."""
    still_quarantined: int = 0
    newly_quarantined: int = 0
    """Normalized before, quarantined by the new mapping (their incidents are kept)."""
    quarantined_by_field: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line a person can read."""
        fields = ", ".join(f"{k} {v}" for k, v in sorted(self.quarantined_by_field.items()))
        return (
            f"{self.source}: {self.records} raw records: {self.updated} updated, "
            f"{self.placed} newly placed, {self.still_quarantined} still quarantined"
            + (f" ({fields})" if fields else "")
            + f", {self.newly_quarantined} newly quarantined, {self.unchanged} unchanged"
        )


def stored_config(session: Session, slug: str) -> SourceConfig:
    """The configuration a source was last ingested with."""
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        raise NotFound(f"no source {slug!r}: ingest it first")
    return SourceConfig.model_validate(source.config)


def reprocess(
    factory: sessionmaker[Session],
    config: SourceConfig,
    *,
    geocoder: Geocoder | None = None,
    regeocode: bool = False,
) -> ReprocessReport:
    """Re-normalize every stored raw record of the source under `config` (one transaction).

    `regeocode`: forget the cached answers this mapping refuses (not found, or too coarse),
    so addresses are asked again (after loading address points or a better extract).
    """
    report = ReprocessReport(config.slug)
    placer = Placer(config, geocoder)
    with transaction(factory) as session:
        if regeocode:
            forget_refused(session, config)
        source = ensure_source(session, config)
        raws = list(
            session.scalars(
                select(RawRecord)
                .where(RawRecord.source_id == source.id)
                .order_by(RawRecord.received_at, RawRecord.id)
            )
        )
        report.records = len(raws)
        results: list[NormalizedRecord | NormalizeError] = []
        for moment, batch in groupby(raws, key=lambda raw: raw.received_at):
            found = [_normalized(raw, config) for raw in batch]
            results += settle(session, source, config, found, now=moment, placer=placer)
        calls = _calls(raws, results, report)
        changes = _apply(session, source, config, calls)
        for raw, result in zip(raws, results, strict=True):
            if isinstance(result, NormalizeError):
                continue
            call = calls[result.key]
            if raw.outcome == "quarantined":
                report.placed += 1
            elif changes[result.key] == "unchanged":
                report.unchanged += 1
            else:
                report.updated += 1
            raw.external_id = result.external_id
            raw.incident_id = call.incident_id
            raw.outcome = "withheld" if call.withheld else "normalized"
            raw.error_field = raw.error = None
    return report


@dataclass
class _Call:
    """One record key of the source: its newest version, earliest time, last delivery."""

    record: NormalizedRecord
    raw: RawRecord
    earliest: datetime
    last_seen: datetime
    incident_id: int | None = None
    withheld: bool = False


def _calls(
    raws: list[RawRecord],
    results: list[NormalizedRecord | NormalizeError],
    report: ReprocessReport,
) -> dict[str, _Call]:
    """The newest version of each record key; quarantines what still fails."""
    calls: dict[str, _Call] = {}
    for raw, result in zip(raws, results, strict=True):
        if isinstance(result, NormalizeError):
            if raw.outcome == "quarantined":
                report.still_quarantined += 1
            else:
                report.newly_quarantined += 1
            report.quarantined_by_field[result.field] += 1
            raw.outcome, raw.error_field, raw.error = "quarantined", result.field, str(result)
            continue
        held = calls.get(result.key)
        if held is None:
            calls[result.key] = _Call(result, raw, result.occurred_at, raw.received_at)
            continue
        held.earliest = min(held.earliest, result.occurred_at)
        held.last_seen = max(held.last_seen, raw.received_at)
        if (result.version_at or raw.received_at) >= (
            held.record.version_at or held.raw.received_at
        ):
            held.record, held.raw = result, raw
    return calls


def _apply(
    session: Session, source: Source, config: SourceConfig, calls: dict[str, _Call]
) -> dict[str, str]:
    """Apply each call's newest version as of when it arrived; the change per record key."""
    rules = policy_for(config)
    snapshot = config.lifecycle.snapshot
    groups: dict[tuple[datetime, datetime], list[tuple[str, lifecycle.Version]]] = {}
    for key, call in calls.items():
        record = replace(call.record, occurred_at=call.earliest)
        version = public_version(record, rules, call.raw.received_at)
        version = replace(version, seen_at=call.last_seen)
        groups.setdefault((call.raw.received_at, call.last_seen), []).append((key, version))
    changes: dict[str, str] = {}
    for (received, last_seen), members in sorted(groups.items()):
        following = lifecycle.next_snapshot_after(session, source, last_seen) if snapshot else None
        outcome = lifecycle.apply_versions(
            session,
            source,
            config,
            [version for _, version in members],
            now=received,
            force=True,
            snapshot_at=last_seen if snapshot else None,
            next_snapshot=following,
        )
        session.flush()
        for (key, _), incident, change in zip(
            members, outcome.incidents, outcome.changes, strict=True
        ):
            changes[key] = change
            calls[key].incident_id = incident.id
            calls[key].withheld = incident.visibility == "withheld"
    return changes


def _normalized(raw: RawRecord, config: SourceConfig) -> NormalizedRecord | NormalizeError:
    try:
        payload: dict[str, str] = json.loads(raw.payload)
        return normalize(RawItem(raw.position, payload), config)
    except NormalizeError as exc:
        return exc


def forget_refused(session: Session, config: SourceConfig) -> None:
    """Drop the cached geocoder answers of the mapping's city it would not publish."""
    refused = or_(
        GeocodeCache.precision.is_(None), GeocodeCache.precision.not_in(config.geocode.accept)
    )
    session.execute(delete(GeocodeCache).where(GeocodeCache.city == config.geocode.city, refused))
