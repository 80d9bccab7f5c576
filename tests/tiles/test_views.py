"""/tiles: the basemap archives over HTTP range requests, as the browser's PMTiles reader asks.

Served from the real San Francisco archive shipped in samples/osm; a tile read through the
ranges decodes to the streets of Civic Center.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support.tiles import decoded_tile, names
from townsquare.app import create_app
from townsquare.db import make_engine
from townsquare.migrations import runner
from townsquare.settings import Settings
from townsquare.tiles.archive import SAMPLES

SF = SAMPLES / "sf_protomaps_pmtiles" / "sf.pmtiles"
SF_BYTES = SF.read_bytes()
SIZE = len(SF_BYTES)
URL = "/tiles/sf.pmtiles"
CIVIC_CENTER = (37.7793, -122.4193)


def _settings(data_dir: Path, **extra: object) -> Settings:
    url = f"sqlite:///{data_dir / 'townsquare.db'}"
    runner.upgrade(make_engine(url))
    return Settings(database_url=SecretStr(url), data_dir=data_dir, tile_url="", **extra)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole app with the default tiles folder (empty) and the bundled sample cities."""
    with TestClient(create_app(_settings(tmp_path_factory.mktemp("tiles")))) as test_client:
        yield test_client


def test_whole_archive_says_it_takes_ranges_and_caches_long(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.content == SF_BYTES
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/vnd.pmtiles"
    assert response.headers["etag"].startswith('"')
    assert "max-age=31536000" in response.headers["cache-control"]
    head = client.head(URL)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == SIZE
    assert head.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(
    ("asked", "start", "end"),
    [
        ("bytes=0-126", 0, 126),  # the header the reader asks for first
        ("bytes=1000-1999", 1000, 1999),
        (f"bytes={SIZE - 100}-", SIZE - 100, SIZE - 1),
        ("bytes=-100", SIZE - 100, SIZE - 1),
        (f"bytes={SIZE - 10}-{SIZE + 500}", SIZE - 10, SIZE - 1),  # cut at the end
    ],
)
def test_a_range_is_answered_with_206_and_exactly_those_bytes(
    client: TestClient, asked: str, start: int, end: int
) -> None:
    response = client.get(URL, headers={"Range": asked})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert response.content == SF_BYTES[start : end + 1]
    assert int(response.headers["content-length"]) == end - start + 1


def test_a_range_past_the_end_is_416_with_the_size(client: TestClient) -> None:
    response = client.get(URL, headers={"Range": f"bytes={SIZE}-{SIZE + 100}"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"


def test_if_range_gives_the_range_only_while_the_file_is_the_same(client: TestClient) -> None:
    etag = client.head(URL).headers["etag"]
    same = client.get(URL, headers={"Range": "bytes=0-126", "If-Range": etag})
    assert same.status_code == 206
    changed = client.get(URL, headers={"Range": "bytes=0-126", "If-Range": '"another"'})
    assert changed.status_code == 200
    assert changed.content == SF_BYTES


def test_a_tile_read_through_ranges_holds_civic_center_streets(client: TestClient) -> None:
    def get_bytes(offset: int, length: int) -> bytes:
        response = client.get(URL, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        assert response.status_code == 206
        return response.content

    layers = decoded_tile(get_bytes, *CIVIC_CENTER, 14)
    assert {"roads", "water", "earth"} <= set(layers)
    assert {"10th Street", "Market Street"} & names(layers["roads"])


def test_index_lists_both_sample_cities_with_their_bounds(client: TestClient) -> None:
    response = client.get("/tiles/index.json")
    assert response.status_code == 200
    found = {a["name"]: a for a in response.json()["archives"]}
    assert set(found) == {"sf", "seattle"}
    west, south, east, north = found["seattle"]["bounds"]
    assert west < -122.3378 < east
    assert south < 47.6097 < north
    assert found["sf"]["attribution"] == "© OpenStreetMap contributors"
    assert client.get(found["sf"]["url"], headers={"Range": "bytes=0-6"}).content == b"PMTiles"


def test_unknown_archive_is_a_404_problem(client: TestClient) -> None:
    for name in ("nowhere", "sf.pmtiles"):
        response = client.get(f"/tiles/{name}.pmtiles")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/tiles/..%2F..%2Fsettings.pmtiles").status_code == 404


def test_operator_folder_wins_and_samples_can_be_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "tiles"
    folder.mkdir()
    shutil.copy(SF, folder / "oakland.pmtiles")
    (folder / "broken.pmtiles").write_bytes(b"not an archive")
    settings = _settings(tmp_path, tiles_dir=folder, tiles_samples=False)
    with TestClient(create_app(settings)) as alone:
        listed = [a["name"] for a in alone.get("/tiles/index.json").json()["archives"]]
        assert listed == ["oakland"]  # the broken file is not served, nor the samples
        assert (
            alone.get("/tiles/oakland.pmtiles", headers={"Range": "bytes=0-6"}).status_code == 206
        )
        assert alone.get(URL).status_code == 404
