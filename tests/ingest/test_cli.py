"""`townsquare ingest` on a hostile file: one line naming the record and the field, and the
record quarantined, never a traceback."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.db import make_engine, make_sessionmaker
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.models import RawRecord, Source

CAP = Path(__file__).parents[1] / "data" / "cap_alerts" / "v1dot2_appendix_adot3.xml"
DEEP = 100_000
FULL_AT = 256 * 1024
"""No file may grow past this: the store's journal fills up with the first batch."""


def test_a_deeply_nested_cap_file_quarantines_the_record_naming_the_field(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    nested = "<parameter>" + "<x>" * DEEP + "1" + "</x>" * DEEP + "</parameter>"
    alert = tmp_path / "alert.xml"
    alert.write_text(CAP.read_text().replace("<info>", "<info>" + nested, 1))
    mapping = (MAPPINGS_DIR / "nws_cap_alerts.toml").read_text("utf-8")
    mapping = re.sub(
        r'^location = ".*"$', f"location = {json.dumps(str(alert))}", mapping, count=1, flags=re.M
    )
    source = tmp_path / "cap.toml"
    source.write_text(mapping, "utf-8")
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["ingest", str(source)], env={"TOWNSQUARE_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    field = "cap:info.cap:parameter.cap:x.cap:x."
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("quarantined alert: ")]
    assert field in line
    assert "nests deeper than 32 levels" in line
    assert "1 received" in result.stdout
    assert "1 quarantined" in result.stdout
    with factory() as session:
        (raw,) = session.scalars(select(RawRecord)).all()
        assert raw.outcome == "quarantined"
        assert raw.error_field is not None
        assert raw.error_field.startswith(field)


def _ingest_limited(
    url: str, mapping: Path, max_file_bytes: int
) -> subprocess.CompletedProcess[str]:
    """`townsquare ingest` in a process whose files cannot grow past `max_file_bytes` (the
    kernel's RLIMIT_FSIZE: writes past it fail with EFBIG, as on a full file system)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "townsquare.cli", "ingest", str(mapping)],
        env={**os.environ, "TOWNSQUARE_DATABASE_URL": url, "TOWNSQUARE_LOG_LEVEL": "WARNING"},
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _counts(url: str) -> tuple[str, dict[str, int]]:
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            health = str(db.exec_driver_sql("PRAGMA integrity_check").scalar())
            rows = db.execute(
                select(Source.slug, func.count(Incident.id))
                .join(Incident, Incident.source_id == Source.id)
                .group_by(Source.slug)
            ).all()
    finally:
        engine.dispose()
    return health, {slug: count for slug, count in rows}


def test_a_full_disk_mid_ingest_is_one_line_and_loses_nothing_stored(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "store.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    seattle, sf = MAPPINGS_DIR / "seattle_fire_911.toml", MAPPINGS_DIR / "sf_fire_calls.toml"
    engine = make_engine(url)
    service.ingest(make_sessionmaker(engine), load_source_config(seattle))
    engine.dispose()
    health, before = _counts(url)
    assert health == "ok"
    full = _ingest_limited(url, sf, FULL_AT)
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    (line,) = full.stderr.strip().splitlines()
    assert line.startswith("error: sf-fire-calls: the store could not be written (")
    assert "the disk is full; every batch stored before is kept" in line
    health, after = _counts(url)
    assert health == "ok"
    assert after["seattle-fire-911"] == before["seattle-fire-911"]
    again = CliRunner().invoke(app, ["ingest", str(sf)], env={"TOWNSQUARE_DATABASE_URL": url})
    assert again.exit_code == 0, again.output  # room again: the same command completes
    health, done = _counts(url)
    assert health == "ok"
    assert done["seattle-fire-911"] == before["seattle-fire-911"]
    assert done["sf-fire-calls"] > after.get("sf-fire-calls", 0)
