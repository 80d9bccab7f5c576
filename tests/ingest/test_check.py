"""`townsquare sources check`: the shipped samples over a real local HTTP server, nothing stored.

Each test runs the real command against a store (both backends) and then asserts that the
store is still empty: a dry run writes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.feeds import FeedServer, Reply, arcgis_layer, static
from townsquare import geo
from townsquare.agencies.models import Agency
from townsquare.cli import app
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR
from townsquare.ingest.models import RawRecord, Source, SourceRecord

SAMPLES = Path(service.__file__).parents[1] / "samples"
SEATTLE_CSV = SAMPLES / "seattle_fire_911" / "seattle_fire_911_calls_extract.csv"
SF_CSV = SAMPLES / "sf_fire_calls" / "sf-fire-calls.csv"
HOUSTON = SAMPLES / "houston_active_incidents" / "data_20260821T214240Z_commitd1c8c577b8.json"
_LOCATION = re.compile(r'^location = ".*"$', re.MULTILINE)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


def _mapping(tmp_path: Path, name: str, location: str, *, edit: str = "", extra: str = "") -> Path:
    """A copy of a shipped mapping reading `location`, with lines removed and appended."""
    text = (MAPPINGS_DIR / f"{name}.toml").read_text("utf-8")
    text = _LOCATION.sub(f"location = {json.dumps(location)}", text, count=1)
    if edit:
        assert edit in text
        text = text.replace(edit, "")
    path = tmp_path / f"{name}.toml"
    path.write_text(text + extra, "utf-8")
    return path


def _check(engine: Engine, *args: str) -> tuple[int, str, str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["sources", "check", *args], env={"TOWNSQUARE_DATABASE_URL": url}
    )
    return result.exit_code, result.stdout, result.stderr


def _json(engine: Engine, *args: str) -> dict[str, Any]:
    code, out, err = _check(engine, *args, "--json")
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    return body


def _nothing_stored(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        for model in (Agency, Source, RawRecord, SourceRecord, Incident):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model


def test_seattle_csv_from_its_url(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    server.routes["/calls.csv"] = static(SEATTLE_CSV.read_bytes(), "text/csv")
    config = _mapping(tmp_path, "seattle_fire_911", f"{server.url}/calls.csv")
    body = _json(engine, str(config), "--limit", "0")
    assert body["format"] == 1
    assert body["source"]["location"] == f"{server.url}/calls.csv"
    # The counts of test_samples and test_service: 1,500 rows, 61 byte-identical repeats,
    # 25 without coordinates, 1,411 calls.
    summary = body["summary"]
    assert (summary["read"], summary["duplicate"], summary["quarantined"]) == (1500, 61, 25)
    assert (summary["normalized"], summary["withheld"], summary["calls"]) == (1414, 0, 1411)
    assert summary["quarantined_by_field"] == {"Latitude": 25}
    assert (summary["truncated"], summary["stored"]) == (False, False)
    assert body["unknown_call_types"] == []
    records = body["records"]
    quarantined = next(r for r in records if r["outcome"] == "quarantined")
    assert (quarantined["field"], quarantined["reason"]) == ("Latitude", "missing")
    assert quarantined["category"] is None
    duplicate = next(r for r in records if r["outcome"] == "duplicate")
    assert duplicate["reason"].startswith("the same bytes as line ")
    walden = next(r for r in records if r["address_block"] == "2800 block of S Walden St")
    assert walden["category"]["code"].startswith("traffic.collision")
    assert walden["occurred_at"].endswith("Z")
    assert walden["status"] == "active"
    for record in records:
        block = record["address_block"] or ""
        assert not re.match(r"^\d+ (?!block of)", block), block  # no house number survives
        if record["point"]:  # a public point is an H3 cell centre: coarsening keeps it
            point = geo.Point(record["point"]["lat"], record["point"]["lon"])
            assert geo.coarsen(point) == pytest.approx(point)
    assert server.hits("/calls.csv")
    _nothing_stored(factory)


def test_sf_csv_withholds_medical_calls_and_names_the_rule(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    server.routes["/sf.csv"] = static(SF_CSV.read_bytes(), "text/csv")
    config = _mapping(tmp_path, "sf_fire_calls", f"{server.url}/sf.csv")
    body = _json(engine, str(config), "--limit", "0")
    summary = body["summary"]
    # 1,000 unit rows of 961 calls, none quarantined; every medical row is withheld.
    assert (summary["read"], summary["quarantined"], summary["calls"]) == (1000, 0, 961)
    medical = [r for r in body["records"] if r["category"]["code"] == "medical"]
    assert summary["withheld"] == len(medical) > 600
    assert summary["withheld_by_rule"] == {"withhold.sensitive_categories": len(medical)}
    assert medical[0]["withheld"] == [
        {
            "rule": "withhold.sensitive_categories",
            "reason": "withheld: medical emergency is a sensitive call type",
        }
    ]
    assert medical[0]["category"]["label"] == "Medical emergency"
    units = {r["unit"] for r in body["records"]}
    assert len(units) > 50  # one row per unit: the unit is shown
    _nothing_stored(factory)


def test_sf_human_table(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    server.routes["/sf.csv"] = static(SF_CSV.read_bytes(), "text/csv")
    config = _mapping(tmp_path, "sf_fire_calls", f"{server.url}/sf.csv")
    code, out, err = _check(engine, str(config), "--limit", "5")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "sf-fire-calls (csv) San Francisco Fire calls for service (2002 sample)"
    header = next(line for line in lines if line.startswith("position"))
    for column in ("outcome", "occurred_at (UTC)", "category", "address", "point", "status"):
        assert column in header
    rows = [line for line in lines if line.startswith("line ")]
    assert len(rows) == 5
    assert "2000 block of California St" in rows[0]
    assert "fire.structure (Structure fire)" in rows[0]
    assert "withhold.sensitive_categories" in rows[1]
    assert lines[-1] == (
        "summary: 5 records read (limit reached: the source holds more): 3 public, "
        "2 withheld, 0 quarantined, 0 duplicates; 5 distinct calls; 0 unknown call types; "
        "nothing was stored"
    )
    _nothing_stored(factory)


def test_houston_arcgis_snapshot_is_paged_only_as_far_as_the_limit(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    document = json.loads(HOUSTON.read_text("utf-8"))
    assert len(document["features"]) > 100
    server.routes["/layer/0/query"] = arcgis_layer(lambda: document)
    config = _mapping(
        tmp_path,
        "houston_active_incidents",
        f"{server.url}/layer/0",
        edit="page_size = 500\n",
    )
    text = config.read_text("utf-8").replace("[arcgis]\n", "[arcgis]\npage_size = 40\n")
    config.write_text(text, "utf-8")
    body = _json(engine, str(config), "--limit", "50")
    assert body["summary"]["read"] == 50
    assert body["summary"]["truncated"] is True
    assert len(server.hits("/layer/0/query")) == 2  # 40 + 10 of the second page; no third
    first = body["records"][0]
    assert first["position"] == "page 1 feature 1"
    assert first["occurred_at"] == "2026-08-21T21:32:00Z"  # 10 min before the snapshot
    assert first["external_id"].count(":") == 2  # UID:Agency:CALL_TIME
    assert {r["outcome"] for r in body["records"]} <= {"normalized", "withheld"}
    everything = _json(engine, str(config), "--limit", "0")["summary"]
    assert everything["read"] == len(document["features"])
    assert everything["truncated"] is False
    _nothing_stored(factory)


def test_file_option_reads_a_saved_response_instead_of_the_live_layer(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    shipped = MAPPINGS_DIR / "houston_active_incidents.toml"
    body = _json(engine, str(shipped), "--file", str(HOUSTON), "--limit", "0")
    assert body["source"]["location"] == str(HOUSTON.resolve())
    document = json.loads(HOUSTON.read_text("utf-8"))
    assert body["summary"]["read"] == len(document["features"])
    withheld = body["summary"]["withheld"]
    assert withheld == sum(r["category"]["code"] == "medical" for r in body["records"]) > 0
    _nothing_stored(factory)


def test_unknown_call_types_and_policy_rules_are_listed(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    server.routes["/calls.csv"] = static(SEATTLE_CSV.read_bytes(), "text/csv")
    config = _mapping(
        tmp_path,
        "seattle_fire_911",
        f"{server.url}/calls.csv",
        edit='"Motor Vehicle Incident Freeway" = "traffic.collision_freeway"\n',
        extra='\n[policy.withhold]\ncall_type_words = ["Freeway"]\n',
    )
    body = _json(engine, str(config), "--limit", "0")
    unknown = body["unknown_call_types"]
    assert [u["call_type"] for u in unknown] == ["Motor Vehicle Incident Freeway"]
    assert unknown[0]["count"] > 0
    held = [r for r in body["records"] if r["category"] and not r["category"]["mapped"]]
    assert len(held) == unknown[0]["count"]
    assert held[0]["category"]["code"] == "other"
    rules = body["summary"]["withheld_by_rule"]
    assert rules == {"withhold.call_type_words": body["summary"]["withheld"]}
    assert body["summary"]["withheld"] > unknown[0]["count"]  # mapped freeway calls too
    code, out, _ = _check(engine, str(config), "--limit", "0")
    assert code == 0
    assert "Unknown call types" in out
    assert re.search(r"\s\d+\s+Motor Vehicle Incident Freeway$", out, re.MULTILINE)
    assert re.search(r"\s\d+\s+withhold\.call_type_words$", out, re.MULTILINE)
    assert re.search(r"\s25\s+Latitude$", out, re.MULTILINE)
    _nothing_stored(factory)


def test_a_failing_feed_exits_1_with_the_error(
    server: FeedServer, engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    server.routes["/calls.csv"] = lambda _request: Reply(503, b"maintenance")
    config = _mapping(tmp_path, "seattle_fire_911", f"{server.url}/calls.csv")
    code, out, err = _check(engine, str(config))
    assert code == 1
    assert "503" in err
    assert out == ""
    _nothing_stored(factory)
