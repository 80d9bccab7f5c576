"""Which PMTiles archives the app serves, and what each covers (read from its header).

The operator's tiles folder comes first; the bundled sample cities (San Francisco, Seattle)
follow unless turned off, so `make run` shows streets with nothing downloaded. An archive
is named by its file stem: the name in `/tiles/{name}.pmtiles`.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from townsquare.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "osm"
SAMPLE_ARCHIVES = (
    SAMPLES / "sf_protomaps_pmtiles" / "sf.pmtiles",
    SAMPLES / "seattle_osm_drivable_overpass" / "seattle.pmtiles",
)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""An archive name that is safe in a URL path and a file name (no dots, no slashes)."""
HEADER = struct.Struct("<7sB11Q4B2B4iB2i")
"""PMTiles v3 fixed header, 127 bytes: magic, version, offsets and counts, zooms, bounds."""


class NotAnArchive(ValueError):
    """The file is not a PMTiles v3 archive."""


@dataclass(frozen=True, slots=True)
class Archive:
    """One PMTiles file: its name, where it is, the zooms and bounds its header states."""

    name: str
    path: Path
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]  # west, south, east, north (degrees)
    size: int

    @property
    def etag(self) -> str:
        """A strong validator from the content, the same on every node serving the file."""
        stat = self.path.stat()
        return f'"{_digest(self.path, stat.st_mtime_ns, stat.st_size)}"'


@lru_cache(maxsize=64)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()[:32]


def read_archive(path: Path) -> Archive:
    """Describe the archive at `path` from its header; NotAnArchive if it is none."""
    with path.open("rb") as handle:
        raw = handle.read(HEADER.size)
    if len(raw) < HEADER.size:
        raise NotAnArchive(f"{path}: too short for a PMTiles header")
    fields = HEADER.unpack(raw)
    magic, version = fields[0], fields[1]
    if magic != b"PMTiles" or version != 3:
        raise NotAnArchive(f"{path}: not a PMTiles v3 archive")
    min_zoom, max_zoom = fields[17], fields[18]
    west, south, east, north = (value / 1e7 for value in fields[19:23])
    return Archive(
        name=path.stem,
        path=path,
        min_zoom=min_zoom,
        max_zoom=max_zoom,
        bounds=(west, south, east, north),
        size=path.stat().st_size,
    )


def tiles_folder(settings: Settings) -> Path:
    """The operator's tiles folder: TILES_DIR, or `tiles` in the data folder."""
    return settings.tiles_dir or settings.data_dir / "tiles"


def archives(settings: Settings) -> dict[str, Archive]:
    """Every archive served, by name; the operator's folder wins over a sample of that name."""
    paths = sorted(tiles_folder(settings).glob("*.pmtiles"))
    if settings.tiles_samples:
        paths += [path for path in SAMPLE_ARCHIVES if path.is_file()]
    found: dict[str, Archive] = {}
    for path in paths:
        if path.stem in found or not NAME.match(path.stem) or not path.is_file():
            continue
        try:
            found[path.stem] = read_archive(path)
        except NotAnArchive:
            continue  # a half-written or foreign file is not served
    return found
