"""The geofence index: which watch areas contain a point, without touching the store.

Each area is covered once by H3 cells at one resolution chosen from its size: cells wholly
inside the area (every point there matches, no test) and edge cells (an exact test decides).
An incident is matched by looking up its cell at each resolution in use: a handful of dict
look-ups, then exact tests only for the areas whose boundary passes through that cell.

Classification is conservative: a cell counts as inside only if its centre lies at least
one circumradius (bounded above by `CIRCUMRADIUS_FACTOR` times the average edge length)
within the circle; the exact test on edge cells makes the answer exact either way.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import h3
from h3.api import basic_int as h3i

from townsquare import geo

CIRCUMRADIUS_FACTOR = 1.2
"""Bound on centre-to-vertex distance over the average edge (measured worst: 1.10)."""
TARGET_EDGES_PER_RADIUS = 4.0
"""Cover resolution: about this many cell edges per radius (cells vs. edge tests)."""
MIN_RESOLUTION, MAX_RESOLUTION = 5, 11
EDGE_M = {res: h3.average_hexagon_edge_length(res, "m") for res in range(16)}


@dataclass(frozen=True, slots=True)
class CircleArea:
    """A circle: centre and radius in metres."""

    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        """Exact containment by great-circle distance."""
        return geo.haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m


@dataclass(frozen=True, slots=True)
class PolygonArea:
    """A polygon: outer ring and holes, each a closed ring of (lon, lat) as in GeoJSON."""

    rings: tuple[tuple[tuple[float, float], ...], ...]

    def contains(self, lat: float, lon: float) -> bool:
        """Even-odd rule over every ring (holes subtract), in degrees: areas are small."""
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                    inside = not inside
        return inside

    def shape(self) -> h3.LatLngPoly:
        """The h3 polygon of this area."""
        outer, *holes = ([(lat, lon) for lon, lat in ring] for ring in self.rings)
        return h3.LatLngPoly(outer, *holes)

    def extent_m(self) -> float:
        """The diagonal of the bounding box, metres."""
        lons = [p[0] for p in self.rings[0]]
        lats = [p[1] for p in self.rings[0]]
        return geo.haversine_m(min(lats), min(lons), max(lats), max(lons))


Area = CircleArea | PolygonArea


@dataclass(frozen=True, slots=True)
class Cover:
    """The cells of one area: inside (no test needed) and edge (exact test)."""

    resolution: int
    inside: tuple[int, ...]
    edge: tuple[int, ...]


def resolution_for(size_m: float) -> int:
    """The resolution whose edge is closest to size / TARGET_EDGES_PER_RADIUS."""
    want = size_m / TARGET_EDGES_PER_RADIUS
    return min(
        range(MIN_RESOLUTION, MAX_RESOLUTION + 1),
        key=lambda r: abs(math.log(EDGE_M[r] / want)),
    )


def cover(area: Area) -> Cover:
    """Cover `area` once with cells at one resolution, split into inside and edge."""
    if isinstance(area, CircleArea):
        return _cover_circle(area)
    return _cover_polygon(area)


def _cover_circle(area: CircleArea) -> Cover:
    res = resolution_for(area.radius_m)
    edge_m = EDGE_M[res]
    reach = edge_m * CIRCUMRADIUS_FACTOR
    rings = math.ceil((area.radius_m + reach) / (edge_m * 1.5)) + 1
    origin = h3i.latlng_to_cell(area.lat, area.lon, res)
    inside: list[int] = []
    edge: list[int] = []
    for cell in h3i.grid_disk(origin, rings):
        lat, lon = h3i.cell_to_latlng(cell)
        d = geo.haversine_m(area.lat, area.lon, lat, lon)
        if d + reach <= area.radius_m:
            inside.append(cell)
        elif d - reach <= area.radius_m:
            edge.append(cell)
    return Cover(res, tuple(sorted(inside)), tuple(sorted(edge)))


def _cover_polygon(area: PolygonArea) -> Cover:
    res = resolution_for(area.extent_m() / 2)
    shape = area.shape()
    full = {int(h3.str_to_int(c)) for c in h3.polygon_to_cells_experimental(shape, res, "full")}
    touched = {
        int(h3.str_to_int(c)) for c in h3.polygon_to_cells_experimental(shape, res, "overlap")
    }
    return Cover(res, tuple(sorted(full)), tuple(sorted(touched - full)))


class GeofenceIndex:
    """Cell -> subscription ids, inside and edge, plus each area for the exact test."""

    def __init__(self) -> None:
        self._inside: dict[int, list[int]] = {}
        self._edge: dict[int, list[int]] = {}
        self._areas: dict[int, Area] = {}
        self._covers: dict[int, Cover] = {}
        self._resolutions: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._areas

    def add(self, subscription_id: int, area: Area, cells: Cover | None = None) -> Cover:
        """Index one area (replacing any earlier one of the same id); returns its cover."""
        self.remove(subscription_id)
        found = cells or cover(area)
        for cell in found.inside:
            self._inside.setdefault(cell, []).append(subscription_id)
        for cell in found.edge:
            self._edge.setdefault(cell, []).append(subscription_id)
        self._areas[subscription_id] = area
        self._covers[subscription_id] = found
        self._resolutions[found.resolution] = self._resolutions.get(found.resolution, 0) + 1
        return found

    def remove(self, subscription_id: int) -> None:
        """Forget an area; unknown ids are ignored (events may repeat)."""
        found = self._covers.pop(subscription_id, None)
        if found is None:
            return
        del self._areas[subscription_id]
        for table, cells in ((self._inside, found.inside), (self._edge, found.edge)):
            for cell in cells:
                ids = table[cell]
                ids.remove(subscription_id)
                if not ids:
                    del table[cell]
        left = self._resolutions[found.resolution] - 1
        if left:
            self._resolutions[found.resolution] = left
        else:
            del self._resolutions[found.resolution]

    def match(self, lat: float, lon: float) -> list[int]:
        """Every subscription whose area contains the point (each once)."""
        found: list[int] = []
        for res in self._resolutions:
            cell = h3i.latlng_to_cell(lat, lon, res)
            found.extend(self._inside.get(cell, ()))
            edge = self._edge.get(cell)
            if edge:
                areas = self._areas
                found.extend(s for s in edge if areas[s].contains(lat, lon))
        return found

    def cells_of(self, subscription_id: int) -> Cover | None:
        """The cover of one indexed area."""
        return self._covers.get(subscription_id)

    @classmethod
    def build(cls, entries: Iterable[tuple[int, Area, Cover | None]]) -> GeofenceIndex:
        """An index of many areas at once (start-up and benchmarks)."""
        index = cls()
        for subscription_id, area, cells in entries:
            index.add(subscription_id, area, cells)
        return index
