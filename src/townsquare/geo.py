"""Points, H3 cells, distances and coarsening: the one place where precision is dropped."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import h3

EARTH_RADIUS_M = 6_371_008.8
PUBLIC_RESOLUTION = 9
"""Published points snap to the centre of an H3 res-9 cell (edge ~200 m), never finer."""
STORED_RESOLUTIONS = (5, 7, 9)
"""Resolutions stored as integer columns so SQLite and PostgreSQL run the same cell queries."""


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS 84 position in degrees; construction validates the range."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude {self.lat} out of range [-90, 90]")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude {self.lon} out of range [-180, 180]")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def cell_int(lat: float, lon: float, resolution: int) -> int:
    """The H3 cell containing the point, as a signed-64-bit-safe integer."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution)))


def cells_of(point: Point) -> dict[int, int]:
    """The stored H3 cells of a point, keyed by resolution."""
    return {res: cell_int(point.lat, point.lon, res) for res in STORED_RESOLUTIONS}


def coarsen(point: Point, resolution: int = PUBLIC_RESOLUTION) -> Point:
    """The public form of a point: the centre of its H3 cell at `resolution` or coarser."""
    if resolution > PUBLIC_RESOLUTION:
        raise ValueError(f"resolution {resolution} is finer than the public limit")
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(point.lat, point.lon, resolution))
    return Point(round(lat, 6), round(lon, 6))


def cell_reach_m(cell: str) -> float:
    """The farthest a point of `cell` can be from its centre (its farthest vertex)."""
    lat, lon = h3.cell_to_latlng(cell)
    return max(haversine_m(lat, lon, a, b) for a, b in h3.cell_to_boundary(cell))


def disk_cells(point: Point, radius_m: float, resolution: int) -> list[int]:
    """Every cell at `resolution` that can hold a point within `radius_m` of `point`.

    Walks rings outward and keeps a cell when its nearest possible point is within reach; stops
    at the first ring with none. Cells are measured, not assumed average: H3 cells differ in
    size by up to ~2x across the globe, so a ring count from the mean edge misses cells.
    """
    origin = h3.latlng_to_cell(point.lat, point.lon, resolution)
    found: list[int] = []
    for k in range(1 << 20):
        kept = [
            c
            for c in h3.grid_ring(origin, k)
            if haversine_m(point.lat, point.lon, *h3.cell_to_latlng(c)) - cell_reach_m(c)
            <= radius_m
        ]
        if not kept:
            break
        found += (int(h3.str_to_int(c)) for c in kept)
    return found


def cells_within(point: Point, radius_m: float, cells: Iterable[int]) -> set[int]:
    """The cells lying wholly within `radius_m` of `point`, with a metre and a 0.1 % margin.

    A point of a cell is at most its reach from the centre, so at most d(point, centre) +
    reach from `point`; the margin covers edges that bulge past the vertices' chords.
    """
    inside = set()
    for cell in cells:
        name = h3.int_to_str(cell)
        far = haversine_m(point.lat, point.lon, *h3.cell_to_latlng(name))
        if far + cell_reach_m(name) * 1.001 + 1.0 <= radius_m:
            inside.add(cell)
    return inside


def bbox_is_valid(west: float, south: float, east: float, north: float) -> bool:
    """True if the box is ordered and inside the WGS 84 range (no antimeridian crossing)."""
    return -180 <= west < east <= 180 and -90 <= south < north <= 90
