"""`townsquare ingest` on a hostile file: one line naming the record and the field, and the
record quarantined, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from townsquare.cli import app
from townsquare.ingest.config import MAPPINGS_DIR
from townsquare.ingest.models import RawRecord

CAP = Path(__file__).parents[1] / "data" / "cap_alerts" / "v1dot2_appendix_adot3.xml"
DEEP = 100_000


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
