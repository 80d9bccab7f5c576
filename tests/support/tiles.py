"""Reading a PMTiles basemap back the way a map does: a tile at a point, decoded to features."""

from __future__ import annotations

import gzip
import math
from collections.abc import Callable
from typing import Any

import mapbox_vector_tile
from pmtiles.reader import Reader

GetBytes = Callable[[int, int], bytes]


def tile_at(lat: float, lon: float, zoom: int) -> tuple[int, int, int]:
    """The (z, x, y) web-mercator tile holding the point."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return zoom, x, y


def decoded_tile(get_bytes: GetBytes, lat: float, lon: float, zoom: int) -> dict[str, Any]:
    """The layers of the tile holding the point, decoded (layer → features)."""
    data = Reader(get_bytes).get(*tile_at(lat, lon, zoom))
    assert data, f"no tile at {lat},{lon} z{zoom}"
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    layers: dict[str, Any] = mapbox_vector_tile.decode(data)
    return {name: layer["features"] for name, layer in layers.items()}


def names(features: list[dict[str, Any]]) -> set[str]:
    """The `name` of each feature that has one."""
    return {f["properties"]["name"] for f in features if f["properties"].get("name")}
