"""`townsquare tiles build|list` on the real central Portland .osm.pbf, as an operator runs them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.tiles import decoded_tile, names
from townsquare.cli import app
from townsquare.tiles.archive import SAMPLES

PORTLAND = SAMPLES / "portland_osm_pbf_otp" / "portland-central-filtered.osm.pbf"
BROADWAY_AND_MORRISON = (45.5193574, -122.6796145)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An operator's data folder; the command's own log handler is undone afterwards."""
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TOWNSQUARE_LOG_JSON", "false")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    root.handlers[:], root.level = handlers, level


def test_build_from_a_pbf_then_list_serves_it_with_the_samples(data_dir: Path) -> None:
    built = CliRunner().invoke(app, ["tiles", "build", str(PORTLAND), "--name", "portland"])
    assert built.exit_code == 0, built.output
    archive = data_dir / "tiles" / "portland.pmtiles"
    assert f"{archive}: " in built.output
    assert "zoom 8-14" in built.output

    with archive.open("rb") as handle:

        def get_bytes(offset: int, length: int) -> bytes:
            handle.seek(offset)
            return handle.read(length)

        roads = decoded_tile(get_bytes, *BROADWAY_AND_MORRISON, 14)["roads"]
    assert {"Southwest Broadway", "Southwest Morrison Street"} <= names(roads)

    listed = CliRunner().invoke(app, ["tiles", "list"])
    assert listed.exit_code == 0, listed.output
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        "portland",
        "sf",
        "seattle",
    ]


def test_build_refuses_what_is_no_extract(data_dir: Path) -> None:
    notes = data_dir / "notes.txt"
    notes.write_text("not OSM")
    refused = CliRunner().invoke(app, ["tiles", "build", str(notes), "--name", "notes"])
    assert refused.exit_code == 1
    assert "give an .osm.pbf or an Overpass .json/.json.gz file" in refused.output
    assert not (data_dir / "tiles" / "notes.pmtiles").exists()
