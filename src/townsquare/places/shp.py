"""A minimal ESRI shapefile reader: point and polyline geometry with their DBF text fields.

Only what OSM exports use (ogr2ogr writes points and polylines with character fields). Written
here because a general reader decodes every field of every record through several layers and
took 18 s on the San Francisco sample; slicing fixed-width records takes well under one.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

POINT_TYPES = frozenset({1, 11, 21})
LINE_TYPES = frozenset({3, 13, 23})
Coordinates = list[tuple[float, float]]  # (lon, lat) as the file stores them


def _files(path: Path) -> tuple[bytes, bytes]:
    """The .shp and .dbf bytes of a shapefile, from a zip or from files side by side."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            shp = next(n for n in names if n.lower().endswith(".shp"))
            dbf = next(n for n in names if n.lower().endswith(".dbf"))
            return archive.read(shp), archive.read(dbf)
    return path.read_bytes(), path.with_suffix(".dbf").read_bytes()


def _geometries(data: bytes) -> Iterator[tuple[int, Coordinates]]:
    """Each record's shape type and coordinates, in file order."""
    offset = 100
    while offset + 8 <= len(data):
        (length,) = struct.unpack_from(">i", data, offset + 4)
        start = offset + 8
        (kind,) = struct.unpack_from("<i", data, start)
        coordinates: Coordinates = []
        if kind in POINT_TYPES:
            coordinates = [struct.unpack_from("<2d", data, start + 4)]
        elif kind in LINE_TYPES:
            parts, count = struct.unpack_from("<2i", data, start + 36)
            first = start + 44 + 4 * parts
            flat = struct.unpack_from(f"<{2 * count}d", data, first)
            coordinates = list(zip(flat[0::2], flat[1::2], strict=True))
        yield kind, coordinates
        offset = start + 2 * length


def _records(data: bytes, wanted: frozenset[str]) -> Iterator[dict[str, bytes]]:
    """Each record's wanted fields as raw bytes (blank-padded text trimmed)."""
    count, header, size = struct.unpack_from("<IHH", data, 4)
    fields: list[tuple[str, int, int]] = []
    position, at = 1, 32
    while data[at] != 0x0D:
        name = data[at : at + 11].split(b"\0")[0].decode("ascii")
        width = data[at + 16]
        if name in wanted:
            fields.append((name, position, width))
        position += width
        at += 32
    for index in range(count):
        row = header + index * size
        yield {name: data[row + p : row + p + w].strip() for name, p, w in fields}


def read(path: Path, fields: frozenset[str]) -> Iterator[tuple[int, Coordinates, dict[str, bytes]]]:
    """(shape type, coordinates, the chosen fields) of every record of a shapefile."""
    shp, dbf = _files(path)
    for (kind, coordinates), record in zip(_geometries(shp), _records(dbf, fields), strict=True):
        yield kind, coordinates, record
