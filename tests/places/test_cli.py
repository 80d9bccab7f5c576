"""`townsquare places build` and `load-addresses` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.places import metres
from townsquare.cli import app
from townsquare.places.local import LocalGeocoder

SAMPLES = Path(__file__).parents[2] / "src" / "townsquare" / "samples" / "osm"
CSV = Path(__file__).parents[1] / "data" / "places" / "sf_valencia_openaddresses.csv"


def test_build_then_load_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SF streets alone know no Valencia numbers; the city's address points place them."""
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    lines = SAMPLES / "sf_osm_overpass_mapflow" / "sf_lines.zip"
    built = runner.invoke(app, ["places", "build", str(lines), "--city", "San Francisco"])
    assert built.exit_code == 0, built.output
    assert "intersections" in built.output
    geocoder = LocalGeocoder(tmp_path / "places.sqlite")
    before = geocoder.locate_address("500 BLOCK OF VALENCIA ST", "San Francisco")
    assert before is not None
    assert before.precision == "street"

    loaded = runner.invoke(app, ["places", "load-addresses", str(CSV)])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 47 addresses" in loaded.output
    geocoder = LocalGeocoder(tmp_path / "places.sqlite")
    exact = geocoder.locate_address("530 Valencia St", "San Francisco")
    block = geocoder.locate_address("500 BLOCK OF VALENCIA ST", "San Francisco")
    assert exact is not None
    assert block is not None
    assert (exact.precision, block.precision) == ("address", "block")
    assert metres((exact.lat, exact.lon), (37.7650, -122.4218)) < 200
    assert metres((block.lat, block.lon), (exact.lat, exact.lon)) < 100
    assert geocoder.search("530 valencia")[0].name == "530 Valencia Street"


def test_build_refuses_what_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(tmp_path))
    wrong = tmp_path / "streets.txt"
    wrong.write_text("not an extract")
    result = CliRunner().invoke(app, ["places", "build", str(wrong)])
    assert result.exit_code == 1
    assert "cannot build the place index" in result.output
    assert not (tmp_path / "places.sqlite").exists()


def test_load_addresses_needs_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["places", "load-addresses", str(CSV)])
    assert result.exit_code == 1
    assert "townsquare places build" in result.output
