"""Building a city's basemap from the real Seattle Overpass extract, read back as a map reads it.

The archive is opened with the `pmtiles` reader and a tile decoded with mapbox-vector-tile:
downtown's named streets are there in the Protomaps v4 layers protomaps-leaflet draws, and
Elliott Bay is water though OSM maps only its coastline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.tiles import decoded_tile, names
from townsquare.tiles.archive import SAMPLES, read_archive
from townsquare.tiles.build import BuildError, Built, build_tiles
from townsquare.tiles.osm import ExtractError

SEATTLE = SAMPLES / "seattle_osm_drivable_overpass"
THIRD_AND_PIKE = (47.6097, -122.3378)
ELLIOTT_BAY = (47.6050, -122.3600)
GREEN_LAKE = (47.6790, -122.3400)


@pytest.fixture(scope="module")
def seattle(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Seattle's streets and water, built once for the module."""
    output = tmp_path_factory.mktemp("build") / "seattle.pmtiles"
    return build_tiles([SEATTLE / "osm.json.gz", SEATTLE / "water.json.gz"], output)


def _layers(built: Built, point: tuple[float, float], zoom: int = 14) -> dict[str, Any]:
    with built.archive.path.open("rb") as handle:

        def get_bytes(offset: int, length: int) -> bytes:
            handle.seek(offset)
            return handle.read(length)

        return decoded_tile(get_bytes, *point, zoom)


def test_downtown_tile_names_its_streets_in_the_protomaps_layers(seattle: Built) -> None:
    layers = _layers(seattle, THIRD_AND_PIKE)
    assert {"roads", "earth"} <= set(layers)
    assert {"3rd Avenue", "Pike Street", "Pine Street"} <= names(layers["roads"])
    kinds = {(f["properties"]["kind"], f["properties"]["kind_detail"]) for f in layers["roads"]}
    assert ("major_road", "primary") in kinds or ("major_road", "secondary") in kinds
    assert any(kind == "highway" for kind, _ in kinds)  # Interstate 5


def test_sea_and_lakes_are_water(seattle: Built) -> None:
    bay = {f["properties"]["kind"] for f in _layers(seattle, ELLIOTT_BAY)["water"]}
    assert "ocean" in bay
    lake = _layers(seattle, GREEN_LAKE)["water"]
    assert "Green Lake" in names(lake)


def test_archive_covers_the_city_from_zoom_8_to_14(seattle: Built) -> None:
    archive = read_archive(seattle.archive.path)
    assert (archive.min_zoom, archive.max_zoom) == (8, 14)
    west, south, east, north = archive.bounds
    assert west < -122.40
    assert east > -122.25
    assert south < 47.50
    assert north > 47.73
    assert seattle.features > 10_000  # 22,390 ways, a named street joined end to end
    arterials = _layers(seattle, THIRD_AND_PIKE, zoom=11)["roads"]
    assert {f["properties"]["kind"] for f in arterials} <= {"highway", "major_road"}


def test_a_file_with_no_streets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="no roads"):
        build_tiles([SEATTLE / "water.json.gz"], tmp_path / "water.pmtiles")
    (tmp_path / "notes.json").write_text("[1, 2]")
    with pytest.raises(ExtractError, match="Overpass"):
        build_tiles([tmp_path / "notes.json"], tmp_path / "notes.pmtiles")
    with pytest.raises(BuildError, match="name it like"):
        build_tiles([SEATTLE / "osm.json.gz"], tmp_path / "../up.one.pmtiles")
    assert not list(tmp_path.glob("*.pmtiles"))
