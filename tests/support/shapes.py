"""The hostile geometry corpus: each shape with the rule that must refuse it."""

from __future__ import annotations

import math
from typing import Any

Ring = list[list[float]]


def ring_around(lat: float, lon: float, radius_m: float, positions: int) -> Ring:
    """A closed, valid ring of `positions` positions (the closing one included) on a circle."""
    d_lat = math.degrees(radius_m / 6_371_008.8)
    d_lon = d_lat / math.cos(math.radians(lat))
    sides = positions - 1
    ring = [
        [
            lon + d_lon * math.sin(2 * math.pi * i / sides),
            lat + d_lat * math.cos(2 * math.pi * i / sides),
        ]
        for i in range(sides)
    ]
    return [*ring, ring[0]]


def box(west: float, south: float, east: float, north: float) -> Ring:
    """A closed rectangle in degrees."""
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def hostile(lat: float, lon: float, max_positions: int) -> dict[str, tuple[Ring, str]]:
    """Outer rings near (lat, lon) that must be refused, each with the rule named in the answer.

    `max_positions` is the route's vertex bound: the ring with too many is otherwise valid.
    """
    d = 0.001  # about 100 m
    bow_tie = [[lon - d, lat - d], [lon + d, lat + d], [lon + d, lat - d], [lon - d, lat + d]]
    return {
        # The reported case: ±179.999° passed a min/max longitude size check.
        "antimeridian": (box(-179.999, lat, 179.999, lat + 0.01), "antimeridian"),
        "giant": (box(-125.0, 25.0, -67.0, 49.0), "size"),
        "self-crossing": ([*bow_tie, bow_tie[0]], "self-crossing"),
        "zero area": (
            [[lon - d, lat - d], [lon, lat], [lon + d, lat + d], [lon - d, lat - d]],
            "zero area",
        ),
        "too many vertices": (ring_around(lat, lon, 300, max_positions + 1), "vertex count"),
    }


def geojson(ring: Ring) -> dict[str, Any]:
    """A GeoJSON Polygon of one ring."""
    return {"type": "Polygon", "coordinates": [ring]}
