"""Retention: raw records expire on the policy's schedule, tested by moving time forward."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.sources import write_source
from townsquare.cli import app
from townsquare.housekeeping.retention import run_retention
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.models import RawRecord
from townsquare.privacy.models import RetentionRun

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
NONE_ELSE = {
    "post_points": 0,
    "media_originals": 0,
    "unattached_media": 0,
    "throttle_counters": 0,
}


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_raw_records_expire_after_seven_days_and_the_deletion_is_counted(
    factory: sessionmaker[Session],
) -> None:
    service.ingest(factory, load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml"), now=NOW)
    with factory() as session:
        stored = _count(session, RawRecord)
        incidents = _count(session, Incident)
    assert stored == 1000
    early = run_retention(factory, now=NOW + timedelta(days=6, hours=23))
    assert early.deleted == {"raw_records": 0} | NONE_ELSE
    late = run_retention(factory, now=NOW + timedelta(days=7, minutes=1))
    assert late.deleted == {"raw_records": stored} | NONE_ELSE
    with factory() as session:
        assert _count(session, RawRecord) == 0
        assert _count(session, Incident) == incidents  # the public form stays
        runs = session.scalars(select(RetentionRun).order_by(RetentionRun.id)).all()
    assert [(r.total, r.deleted) for r in runs] == [
        (0, {"raw_records": 0} | NONE_ELSE),
        (stored, {"raw_records": stored} | NONE_ELSE),
    ]
    assert runs[1].ran_at == NOW + timedelta(days=7, minutes=1)


def test_a_source_with_a_shorter_retention_expires_first(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    row = {
        "Incident Number": "1",
        "Type": "Structure Fire",
        "Datetime": NOW.isoformat(),
        "Address": "4127 Phinney Ave N",
        "Latitude": "47.6563",
        "Longitude": "-122.3544",
    }
    short = write_source(
        tmp_path / "a",
        [row],
        {"Structure Fire": "fire.structure"},
        slug="short",
        policy={"retention": {"raw_record_days": 1}},
    )
    normal = write_source(
        tmp_path / "b", [row], {"Structure Fire": "fire.structure"}, slug="normal"
    )
    service.ingest(factory, short, now=NOW)
    service.ingest(factory, normal, now=NOW)
    assert run_retention(factory, now=NOW + timedelta(days=2)).deleted["raw_records"] == 1
    assert run_retention(factory, now=NOW + timedelta(days=8)).deleted["raw_records"] == 1


def test_the_cli_runs_retention(
    engine: Engine, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    service.ingest(factory, load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml"), now=NOW)
    monkeypatch.setenv("TOWNSQUARE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TOWNSQUARE_LOG_JSON", "false")
    later = (NOW + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%S")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, ["retention", "run", "--now", later])
    finally:  # the command installs its own log handler on CliRunner's stream
        root.handlers[:], root.level = handlers, level
    assert result.exit_code == 0, result.output
    assert (
        "retention: deleted 1000 rows (raw_records 1000, post_points 0, media_originals 0,"
        " unattached_media 0, throttle_counters 0)" in result.output
    )
