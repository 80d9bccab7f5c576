"""Street basemap benchmark: building the sample cities' PMTiles, and serving byte ranges.

    .venv/bin/python bench/tiles.py [--requests 2000]

Builds Seattle (Overpass JSON) and central Portland (.osm.pbf) into a temporary folder with
`townsquare tiles build`'s code, printing seconds (wall and CPU), features and size; then asks
the whole app for random tile-sized ranges of the shipped sf.pmtiles, as browsers do, and
prints requests per second next to a static file's. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from townsquare.app import create_app
from townsquare.db import make_engine
from townsquare.migrations import runner
from townsquare.settings import Settings
from townsquare.tiles.archive import SAMPLES
from townsquare.tiles.build import build_tiles

SEATTLE = SAMPLES / "seattle_osm_drivable_overpass"
EXTRACTS = {
    "seattle (Overpass JSON)": [SEATTLE / "osm.json.gz", SEATTLE / "water.json.gz"],
    "portland (.osm.pbf)": [SAMPLES / "portland_osm_pbf_otp" / "portland-central-filtered.osm.pbf"],
}


def builds(folder: Path) -> None:
    """Print one line per sample extract built."""
    print(f"{'extract':<26}{'input MB':>9}{'wall s':>8}{'cpu s':>7}{'features':>10}{'MB':>6}")
    for label, paths in EXTRACTS.items():
        cpu = time.process_time()
        built = build_tiles(paths, folder / f"{label.split()[0]}.pmtiles")
        cpu = time.process_time() - cpu  # this process only; tippecanoe runs as a child
        size_in = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"{label:<26}{size_in:>9.1f}{built.seconds:>8.1f}{cpu:>7.1f}"
            f"{built.features:>10}{built.archive.size / 1e6:>6.2f}"
        )


def ranges(folder: Path, requests: int) -> None:
    """Print how fast the app answers tile-sized range requests."""
    url = f"sqlite:///{folder / 'townsquare.db'}"
    runner.upgrade(make_engine(url))
    settings = Settings(database_url=SecretStr(url), data_dir=folder, tile_url="")
    size = (SAMPLES / "sf_protomaps_pmtiles" / "sf.pmtiles").stat().st_size
    rng = random.Random(16)
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        for _ in range(requests):
            start = rng.randrange(0, size - 40_000)
            got = client.get(
                "/tiles/sf.pmtiles", headers={"Range": f"bytes={start}-{start + 30_000}"}
            )
            assert got.status_code == 206
        took = time.perf_counter() - started
        baseline = time.perf_counter()
        for _ in range(requests):
            assert client.get("/static/basemap.js").status_code == 200
        static = time.perf_counter() - baseline
    print(
        f"range requests of 30 kB: {requests / took:,.0f}/s "
        f"(a static file through the same in-process client: {requests / static:,.0f}/s)"
    )


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        builds(Path(work))
        ranges(Path(work), args.requests)


if __name__ == "__main__":
    main()
