"""The policy applied during ingestion: per-source tightening, withheld call types, publication
delay and its release, and bad coordinates that never reach the public. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.sources import write_source
from townsquare.errors import ConfigError
from townsquare.events.outbox import OutboxEvent
from townsquare.housekeeping.release import release_due
from townsquare.incidents import service as incidents
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.models import RawRecord
from townsquare.ingest.policy import policy_for

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SF = MAPPINGS_DIR / "sf_fire_calls.toml"


def _row(number: str, call_type: str, minutes_ago: int = 5, **cells: str) -> dict[str, str]:
    row = {
        "Incident Number": number,
        "Type": call_type,
        "Datetime": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "Address": "4127 Phinney Ave N",
        "Latitude": "47.6563",
        "Longitude": "-122.3544",
    }
    row.update(cells)
    return row


def _with_policy(tmp_path: Path, table: str) -> Path:
    """The bundled SF source file with a [policy] table appended (sample path kept)."""
    text = SF.read_text().replace(
        'location = "../../samples/', f'location = "{MAPPINGS_DIR.parent.parent}/samples/'
    )
    path = tmp_path / "sf.toml"
    path.write_text(text + "\n" + table)
    return path


def test_a_source_can_publish_coarser_points_and_no_address(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _with_policy(
        tmp_path, "[policy.point]\nresolution = 8\n[policy.address]\npublish = false\n"
    )
    service.ingest(factory, load_source_config(path), now=NOW)
    with factory() as session:
        public = list(incidents.iter_public(session))
        assert len(public) == 339
        for row in public:
            assert row.address_block is None
            cell = h3.latlng_to_cell(row.lat, row.lon, 8)
            assert tuple(round(c, 6) for c in h3.cell_to_latlng(cell)) == (row.lat, row.lon)
        shown = incidents.publish_all(session, public[:20])
    # The public form keeps the source's coarser point rather than moving it again.
    assert [(i.lat, i.lon) for i in shown] == [(r.lat, r.lon) for r in public[:20]]
    assert all(item.point.resolution <= 8 for item in shown)


def test_a_source_cannot_loosen_the_policy_without_saying_why(tmp_path: Path) -> None:
    config = load_source_config(_with_policy(tmp_path, "[policy.point]\nresolution = 10\n"))
    with pytest.raises(ConfigError, match=r"point\.resolution"):
        policy_for(config)
    config = load_source_config(
        _with_policy(tmp_path, "[policy.retention]\nraw_record_days = 30\n")
    )
    with pytest.raises(ConfigError, match="loosen_reason"):
        policy_for(config)


def test_sensitive_call_types_are_withheld_even_when_mapped_wrong(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    categories = {
        "Structure Fire": "fire.structure",
        "Sexual Assault": "sensitive.sexual_assault",
        "DV - Domestic Disturbance": "civil",  # a mapping mistake the call type words catch
        "Juvenile Problem": "police.other",
        "Overdose": "assist",
        "Aid Response": "other",
    }
    rows = [_row(str(n), call_type) for n, call_type in enumerate(categories)]
    config = write_source(tmp_path, rows, categories)
    report = service.ingest(factory, config, now=NOW)
    assert (report.created, report.withheld) == (6, 5)
    with factory() as session:
        by_type = {i.original_type: i for i in session.scalars(select(Incident))}
        announced = {e.payload["id"] for e in session.scalars(select(OutboxEvent))}
    assert by_type["Structure Fire"].visibility == "public"
    assert by_type["Structure Fire"].alertable
    assert by_type["DV - Domestic Disturbance"].visibility_reasons == [
        "withheld: the call type says 'dv', withheld by policy"
    ]
    for call_type in categories.keys() - {"Structure Fire"}:
        assert by_type[call_type].visibility == "withheld", call_type
        assert by_type[call_type].id not in announced


def test_a_collision_that_fire_and_ems_answer_is_public_and_an_ems_call_is_not(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    categories = {
        "TA1 - TRAFFIC ACCIDENT - 1ST RESPONSE (FIRE & EMS)": "traffic.collision",
        "EMS RESPONSE": "traffic.collision",  # mapped wrong: nothing but who responds
        "LIFT ASSIST (EMS)": "assist",
    }
    rows = [_row(str(n), call_type) for n, call_type in enumerate(categories)]
    report = service.ingest(factory, write_source(tmp_path, rows, categories), now=NOW)
    assert (report.created, report.withheld) == (3, 2)
    with factory() as session:
        public = [i.original_type for i in incidents.iter_public(session)]
    assert public == ["TA1 - TRAFFIC ACCIDENT - 1ST RESPONSE (FIRE & EMS)"]


def test_a_word_a_source_withholds_is_never_scrubbed_as_a_name(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # The gate reads the scrubbed call type: had "harassing" been taken for a name after
    # "subject", the call would be published as "Subject [name]".
    categories = {"Subject Harassing Neighbors": "police.other", "Caller Jane Roe": "assist"}
    rows = [_row(str(n), call_type) for n, call_type in enumerate(categories)]
    policy = {"withhold": {"call_type_words": ["harass*"]}}
    config = write_source(tmp_path, rows, categories, policy=policy)
    report = service.ingest(factory, config, now=NOW)
    assert (report.created, report.withheld) == (2, 1)
    with factory() as session:
        by_type = {i.original_type: i for i in session.scalars(select(Incident))}
    assert by_type["Subject Harassing Neighbors"].visibility == "withheld"
    assert by_type["Caller [name]"].visibility == "public"


def test_a_publication_delay_holds_incidents_back_until_released(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    categories = {"Structure Fire": "fire.structure", "Vehicle Fire": "fire.vehicle"}
    rows = [_row("1", "Structure Fire", minutes_ago=5), _row("2", "Vehicle Fire", 50)]
    config = write_source(tmp_path, rows, categories, policy={"publication": {"delay_minutes": 30}})
    service.ingest(factory, config, now=NOW)
    with factory() as session:
        rows_by_id = {i.external_id: i for i in session.scalars(select(Incident))}
        assert rows_by_id["1"].visibility == "withheld"
        assert rows_by_id["1"].visibility_reasons[0].startswith("delayed: public from")
        assert rows_by_id["2"].visibility == "public"  # 50 min old: its delay has passed
        assert session.scalars(select(OutboxEvent.payload)).all() == [{"id": rows_by_id["2"].id}]
    assert release_due(factory, now=NOW + timedelta(minutes=20)) == 0
    assert release_due(factory, now=NOW + timedelta(minutes=26)) == 1
    assert release_due(factory, now=NOW + timedelta(minutes=27)) == 0
    with factory() as session:
        released = session.scalars(select(Incident).where(Incident.external_id == "1")).one()
        assert released.visibility == "public"
        assert released.published_at == NOW + timedelta(minutes=26)
        assert released.alertable  # 31 minutes old when released: still timely
        topics = session.scalars(select(OutboxEvent.topic)).all()
    assert topics == ["incident.published", "incident.published"]


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        ("0", "0", "(0, 0) is a placeholder"),
        ("0.0", "0.000", "(0, 0) is a placeholder"),
        ("91.5", "-122.35", "out of range"),
        ("47.65", "-200", "out of range"),
        ("-122.3544", "47.6563", "look swapped"),
        ("nan", "-122.35", "not a finite number"),
        ("47.65", "NaN", "not a finite number"),
        ("inf", "-122.35", "not a finite number"),
        ("", "-122.35", "missing"),
        ("forty-seven", "-122.35", "not a number"),
    ],
)
def test_bad_coordinates_are_quarantined_with_the_reason_and_never_published(
    factory: sessionmaker[Session], tmp_path: Path, lat: str, lon: str, reason: str
) -> None:
    categories = {"Structure Fire": "fire.structure"}
    rows = [
        _row("good", "Structure Fire"),
        _row("bad", "Structure Fire", Latitude=lat, Longitude=lon),
    ]
    report = service.ingest(factory, write_source(tmp_path, rows, categories), now=NOW)
    assert (report.created, report.quarantined) == (1, 1)
    with factory() as session:
        quarantined = session.scalars(
            select(RawRecord).where(RawRecord.outcome == "quarantined")
        ).one()
        assert reason in (quarantined.error or "")
        assert [i.external_id for i in incidents.iter_public(session)] == ["good"]
