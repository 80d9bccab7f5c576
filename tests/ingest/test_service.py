"""Ingesting the real bundled samples into the store, on both backends."""

from __future__ import annotations

import csv
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import h3
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.events.outbox import OutboxEvent
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.cli import compress_to_now
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.models import RawRecord, Source
from townsquare.ingest.sources.fake import FakeSource

SEATTLE = MAPPINGS_DIR / "seattle_fire_911.toml"
SF = MAPPINGS_DIR / "sf_fire_calls.toml"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def count(session: Session, model: type[object], *where: object) -> int:
    """Rows of `model` matching `where`."""
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_seattle_sample_counts(factory: sessionmaker[Session]) -> None:
    report = service.ingest(factory, load_source_config(SEATTLE), now=NOW)
    # 1,500 rows: 61 are byte-identical repeats of an earlier row (the export repeats some up to
    # 9 times), 25 have no coordinates ("(0, 0)" or empty) and are quarantined on Latitude, and
    # 3 reuse an incident number already seen with other content: a corrected address or an
    # upgraded call type: versions of the same call. All three were received together, so
    # their content hash orders them: 2 replace the version stored, 1 is ignored as older.
    assert (report.received, report.unchanged, report.quarantined) == (1500, 61, 25)
    assert (report.created, report.merged, report.withheld) == (1411, 0, 0)
    assert (report.updated, report.stale) == (2, 1)
    assert dict(report.quarantined_by_field) == {"Latitude": 25}
    with factory() as session:
        assert count(session, Incident) == 1411
        assert count(session, RawRecord) == 1500 - 61
        quarantined = session.scalars(
            select(RawRecord).where(RawRecord.outcome == "quarantined")
        ).all()
        assert len(quarantined) == 25
        first = quarantined[0]
        assert first.error_field == "Latitude"
        assert first.error is not None
        assert first.error.startswith("Latitude")
        assert "Address" in json.loads(first.payload)  # kept exactly as received


def test_ingesting_twice_creates_nothing_new(factory: sessionmaker[Session]) -> None:
    config = load_source_config(SEATTLE)
    service.ingest(factory, config, now=NOW)
    with factory() as session:
        before = (count(session, Incident), count(session, RawRecord), count(session, OutboxEvent))
    again = service.ingest(factory, config, now=NOW + timedelta(hours=1))
    assert again.unchanged == again.received == 1500
    assert again.created == again.updated == again.quarantined == 0
    with factory() as session:
        after = (count(session, Incident), count(session, RawRecord), count(session, OutboxEvent))
    assert after == before


def test_sf_units_merge_and_medical_calls_are_withheld(factory: sessionmaker[Session]) -> None:
    report = service.ingest(factory, load_source_config(SF), now=NOW)
    # 1,000 unit rows = 961 calls (39 extra units); 622 of the calls are Medical Incident.
    assert (report.created, report.merged, report.withheld, report.quarantined) == (961, 39, 622, 0)
    with factory() as session:
        assert count(session, Incident, Incident.visibility == "withheld") == 622
        assert count(session, Incident, Incident.visibility == "public") == 339
        assert count(session, RawRecord, RawRecord.outcome == "withheld") == 642
        three = session.scalar(select(Incident).where(Incident.unit_count == 3))
        assert three is not None
        medical = session.scalar(select(Incident).where(Incident.category == "medical"))
        assert medical is not None
        assert medical.visibility_reasons == [
            "withheld: medical emergency is a sensitive call type"
        ]
        # Only public incidents are announced: a withheld call never reaches the bus.
        announced = {e.payload["id"] for e in session.scalars(select(OutboxEvent))}
        withheld = set(
            session.scalars(select(Incident.id).where(Incident.visibility == "withheld"))
        )
        assert announced
        assert not announced & withheld


HOUSE_NUMBER = re.compile(r"^\d+\b(?! block)")


def test_public_incidents_carry_no_house_number_and_a_coarse_point(
    factory: sessionmaker[Session],
) -> None:
    service.ingest(factory, load_source_config(SF), now=NOW)
    service.ingest(factory, load_source_config(SEATTLE), now=NOW)
    with factory() as session:
        for incident in session.scalars(select(Incident)):
            block = incident.address_block or ""
            for number in re.findall(r"\b(\d+) block\b", block):
                assert int(number) % 100 == 0, block
            assert not HOUSE_NUMBER.match(block), block
            cell = h3.latlng_to_cell(incident.lat, incident.lon, 9)
            lat, lon = h3.cell_to_latlng(cell)
            assert (round(lat, 6), round(lon, 6)) == (incident.lat, incident.lon)


def test_replay_moves_the_sample_to_now_without_duplicates(factory: sessionmaker[Session]) -> None:
    config = load_source_config(SF)
    first = service.ingest(factory, config, now=NOW)
    with factory() as session:
        last = session.scalar(select(func.max(Incident.occurred_at)))
    assert last is not None
    retime = compress_to_now(last, NOW, speed=100)
    replayed = service.ingest(factory, config, now=NOW, retime=retime)
    assert replayed.created == 0
    # Every unit record is re-timed, and the 961 calls they make stay 961.
    assert (first.created, first.merged, replayed.updated) == (961, 39, 1000)
    with factory() as session:
        assert count(session, Incident) == 961
        newest = session.scalar(select(func.max(Incident.occurred_at)))
        oldest = session.scalar(select(func.min(Incident.occurred_at)))
    assert newest == NOW
    assert oldest is not None
    assert NOW - oldest < timedelta(days=1)


def test_a_failing_fetch_is_recorded_and_keeps_what_was_stored(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_source_config(SF)
    service.ingest(factory, config, now=NOW)
    broken = FakeSource([], error=OSError("connection refused"))
    monkeypatch.setattr(service, "adapter_for", lambda kind: broken)
    with pytest.raises(service.SourceError, match="connection refused"):
        service.ingest(factory, config, now=NOW)
    with factory() as session:
        source = session.scalar(select(Source).where(Source.slug == config.slug))
        assert source is not None
        assert source.last_error == "connection refused"
        assert source.last_success_at is not None
        assert count(session, Incident) == 961


def test_logs_carry_no_personal_data(
    factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service.ingest(factory, load_source_config(SEATTLE), now=NOW)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "ingest finished" in text
    for fragment in ("Phinney", "PHINNEY", "F11010", "47.65"):
        assert fragment not in text


def test_values_longer_than_their_columns_are_quarantined_not_fatal(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL refuses a value longer than its column: before, one such unit or call type
    # failed the whole batch there, while SQLite stored it.
    sample = MAPPINGS_DIR.parent.parent / "samples" / "sf_fire_calls" / "sf-fire-calls.csv"
    with sample.open(encoding="utf-8-sig", newline="") as handle:
        rows = [dict(row) for _, row in zip(range(3), csv.DictReader(handle), strict=False)]
    rows[0]["UnitID"] = "E" * 65
    rows[1]["CallType"] = "Structure Fire" * 15  # 210 characters
    monkeypatch.setattr(service, "adapter_for", lambda kind: FakeSource.from_payloads(rows))
    report = service.ingest(factory, load_source_config(SF), now=NOW)
    assert report.quarantined == 2
    assert report.quarantined_by_field == {"UnitID": 1, "CallType": 1}
    with factory() as session:
        errors = session.scalars(
            select(RawRecord.error).where(RawRecord.outcome == "quarantined")
        ).all()
        assert sorted(errors) == [
            "CallType: 210 characters, longer than the 200 allowed",
            "UnitID: 65 characters, longer than the 64 allowed",
        ]
        assert count(session, Incident) == 1
