"""Fixing a mapping and re-normalizing what is stored; ingesting into a fresh store."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.store import admin
from townsquare.cli import app
from townsquare.db import make_engine, make_sessionmaker
from townsquare.incidents.models import Incident
from townsquare.ingest import reprocess, service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.models import RawRecord

SF = MAPPINGS_DIR / "sf_fire_calls.toml"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _sf_copy(tmp_path: Path, edit: str = "") -> Path:
    """The shipped SF mapping, its sample path made absolute, with `edit` applied."""
    text = SF.read_text("utf-8")
    location = (SF.parent / "../../samples/sf_fire_calls/sf-fire-calls.csv").resolve()
    text = re.sub(r'^location = ".*"$', f'location = "{location}"', text, count=1, flags=re.M)
    if edit:
        text = text.replace('"Medical Incident" = "medical"\n', edit)
    path = tmp_path / "sf.toml"
    path.write_text(text, "utf-8")
    return path


def _outcomes(session: Session) -> dict[str, int]:
    rows = session.execute(select(RawRecord.outcome, func.count()).group_by(RawRecord.outcome))
    return {outcome: count for outcome, count in rows}


def test_a_fixed_mapping_releases_the_quarantine_once(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # The first mapping quarantines unknown call types and misses "Medical Incident".
    broken = load_source_config(_sf_copy(tmp_path, edit=""))
    broken = broken.model_copy(
        update={
            "unmapped": "quarantine",
            "categories": {k: v for k, v in broken.categories.items() if k != "Medical Incident"},
        }
    )
    first = service.ingest(factory, broken, now=NOW)
    assert first.quarantined_by_field["CallType"] > 100
    with factory() as session:
        before = _outcomes(session)
        incidents_before = session.scalar(select(func.count()).select_from(Incident))
    fixed = load_source_config(_sf_copy(tmp_path))
    report = reprocess.reprocess(factory, fixed)
    assert report.records == 1000
    assert report.placed == before["quarantined"] - report.still_quarantined
    assert report.placed > 100
    assert report.newly_quarantined == 0
    with factory() as session:
        after = _outcomes(session)
        assert after.get("quarantined", 0) == report.still_quarantined
        incidents = session.scalar(select(func.count()).select_from(Incident))
        assert incidents is not None
        assert incidents_before is not None
        assert incidents > incidents_before
        medical = session.scalars(select(Incident).where(Incident.category == "medical")).all()
        assert medical
        assert all(i.published_at == NOW for i in medical)
    # Running it again changes nothing.
    again = reprocess.reprocess(factory, fixed)
    assert (again.updated, again.placed, again.newly_quarantined) == (0, 0, 0)
    assert again.unchanged == report.records - report.still_quarantined
    assert again.still_quarantined == report.still_quarantined
    with factory() as session:
        assert _outcomes(session) == after


def test_reprocess_by_slug_from_the_cli(tmp_path: Path) -> None:
    env = {"TOWNSQUARE_DATA_DIR": str(tmp_path / "data"), "TOWNSQUARE_DATABASE_URL": ""}
    env = {k: v for k, v in env.items() if v}
    sf = _sf_copy(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["ingest", str(sf)], env=env)
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["sources", "reprocess", "sf-fire-calls"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sf-fire-calls: 1000 raw records: 0 updated, 0 newly placed")
    unknown = runner.invoke(app, ["sources", "reprocess", "nowhere"], env=env)
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: no source 'nowhere': ingest it first"


def test_ingest_on_a_fresh_sqlite_store_migrates_it_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(
        app, ["ingest", str(_sf_copy(tmp_path))], env={"TOWNSQUARE_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert "1000 received" in result.stdout
    with make_sessionmaker(make_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(Incident))


@pytest.mark.postgres
def test_ingest_on_an_empty_postgresql_names_db_upgrade(tmp_path: Path) -> None:
    base = os.environ.get("TOWNSQUARE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need TOWNSQUARE_TEST_POSTGRES_URL")
    name = f"{make_url(base).database}_fresh_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        result = CliRunner().invoke(
            app, ["ingest", str(_sf_copy(tmp_path))], env={"TOWNSQUARE_DATABASE_URL": url}
        )
    finally:
        admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: the database schema is not at the latest revision: "
        "run `townsquare db upgrade` first"
    )
