"""Watch areas and their H3 covers, computed for many areas at once with numpy.

A cover is a set of cells, disjoint in the H3 hierarchy, at several resolutions: coarse
cells wholly inside the area and fine cells on its edge. Matching is logical: a point belongs
to the ancestors of its resolution-15 cell, so a point is in exactly one cell of a cover (no
duplicates, no gaps) even though H3 children do not tile their parent exactly. A cell is
therefore classified by the reach of its descendants, `DESCENT_M`, not by its own outline.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import h3
import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3i

from townsquare import geo, shapes

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
CentreCache = dict[int, tuple[float, float]]

LOOKUP_RESOLUTION = 15
CIRCUMRADIUS_FACTOR = 1.2
"""Bound on centre-to-vertex distance over the average edge (measured worst: 1.10)."""
CHILD_OFFSET_FACTOR = 0.8
"""Bound on parent-centre to child-centre distance over the parent's edge (worst: 0.722)."""
EDGES_PER_RADIUS = 4.0
"""Edge cells are about radius / this: fewer exact tests against more cells per area."""
START_LEVELS = 3
"""The cover starts this many resolutions above the edge resolution and splits edge cells."""
MAX_RESOLUTION = 13
EDGE_M = {res: h3.average_hexagon_edge_length(res, "m") for res in range(16)}
DESCENT_M = {
    res: sum(CHILD_OFFSET_FACTOR * EDGE_M[k] for k in range(res, LOOKUP_RESOLUTION))
    + CIRCUMRADIUS_FACTOR * EDGE_M[LOOKUP_RESOLUTION]
    for res in range(16)
}
"""Bound on the distance from a cell's centre to any point of its resolution-15 descendants."""
_LOG_EDGE = np.log(np.array([EDGE_M[r] for r in range(MAX_RESOLUTION + 1)]))
_PENTAGON_BASES = np.array(sorted({h3i.get_base_cell_number(c) for c in h3i.get_pentagons(0)}))
_RES_MASK = 0xF << 52


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

    def bounding_circle(self) -> CircleArea:
        """A circle holding the whole polygon, with a margin for straight edges in degrees."""
        lons = [p[0] for p in self.rings[0]]
        lats = [p[1] for p in self.rings[0]]
        lat, lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
        far = max(geo.haversine_m(lat, lon, y, x) for x, y in self.rings[0])
        return CircleArea(lat, lon, far * 1.01 + 10.0)


@dataclass(frozen=True, slots=True)
class CellArea:
    """A watch area as the server stores it: H3 cells only, the cover is the area.

    A point is inside when the ancestor of its resolution-15 cell at one of the cover's
    resolutions is a cell of the cover (the index's own rule, so both always agree).
    """

    cells: tuple[int, ...]

    def contains(self, lat: float, lon: float) -> bool:
        """True if the point's cell at one of the cover's resolutions is in the cover."""
        point = h3i.latlng_to_cell(lat, lon, LOOKUP_RESOLUTION)
        wanted = set(self.cells)
        levels = {(c >> 52) & 0xF for c in wanted}
        return any(h3i.cell_to_parent(point, r) in wanted for r in levels)


Area = CircleArea | PolygonArea | CellArea


@dataclass(frozen=True, slots=True)
class Cover:
    """The cells of one area: inside (no test needed) and edge (exact test); finest resolution."""

    resolution: int
    inside: tuple[int, ...]
    edge: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CoverArrays:
    """Covers of many areas: (owner, cell) pairs, owner being the area's position in the input."""

    inside_owner: Int64s
    inside_cell: Int64s
    edge_owner: Int64s
    edge_cell: Int64s


def resolution_of(cells: Int64s) -> Int64s:
    """The resolution of each cell (H3 index bits 52-55)."""
    return (cells >> 52) & 0xF


def unit_vectors(lat: Floats, lon: Floats) -> npt.NDArray[np.float64]:
    """Unit vectors (n, 3) of points in degrees."""
    p, q = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)], axis=-1)


def cover(area: Area) -> Cover:
    """Cover `area` once with cells: coarse ones wholly inside, fine ones on the edge."""
    if isinstance(area, CellArea):  # the cells are the area: nothing left to test
        return Cover(max((c >> 52) & 0xF for c in area.cells), area.cells, ())
    circle = area if isinstance(area, CircleArea) else area.bounding_circle()
    found = circle_covers(
        np.array([circle.lat]), np.array([circle.lon]), np.array([circle.radius_m])
    )
    inside = sorted(found.inside_cell.tolist())
    edge = sorted(found.edge_cell.tolist())
    if isinstance(area, PolygonArea):  # every cell of the bounding circle needs the exact test
        inside, edge = [], sorted(inside + edge)
    finest = max((c >> 52) & 0xF for c in itertools.chain(inside, edge))
    return Cover(finest, tuple(inside), tuple(edge))


def circle_covers(
    lat: Floats, lon: Floats, radius_m: Floats, known: CentreCache | None = None
) -> CoverArrays:
    """The covers of many circles, split top-down from a disk of coarse cells."""
    known = {} if known is None else known
    want = np.log(np.maximum(radius_m, 1.0) / EDGES_PER_RADIUS)
    fine = np.abs(_LOG_EDGE[None, :] - want[:, None]).argmin(axis=1)
    start = np.maximum(fine - START_LEVELS, 0)
    centres = unit_vectors(lat, lon)
    pending: dict[int, list[tuple[Int64s, Int64s]]] = {}
    for res in np.unique(start).tolist():
        owners = np.flatnonzero(start == res)
        pending.setdefault(res, []).append(_start_disks(lat, lon, radius_m, owners, res))
    out: dict[str, list[Int64s]] = {"io": [], "ic": [], "eo": [], "ec": []}
    for res in range(int(start.min()), int(fine.max()) + 1):
        if res not in pending:
            continue
        owner = np.concatenate([o for o, _ in pending[res]])
        cells = np.concatenate([c for _, c in pending.pop(res)])
        dist = _distance_m(centres[owner], cells, known)
        reach, radius = DESCENT_M[res], radius_m[owner]
        inside = dist + reach <= radius
        edge = ~inside & (dist - reach <= radius)
        last = edge & (fine[owner] == res)
        split = edge & ~last
        out["io"].append(owner[inside])
        out["ic"].append(cells[inside])
        out["eo"].append(owner[last])
        out["ec"].append(cells[last])
        if split.any():
            shapes.spend_cells(7 * int(np.bincount(owner[split]).max()), "a watch area's edge")
            pending.setdefault(res + 1, []).append(_children(owner[split], cells[split], res))
    joined = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in out.items()}
    return CoverArrays(joined["io"], joined["ic"], joined["eo"], joined["ec"])


def _start_disks(
    lat: Floats, lon: Floats, radius_m: Floats, owners: Int64s, res: int
) -> tuple[Int64s, Int64s]:
    """Every cell at `res` whose descendants may reach each circle (cells vary in size).

    Circles that start from the same cell with the same number of rings share one disk: in a
    city most watch areas start from a few hundred cells, so H3 walks each disk once.
    """
    step = 1.5 * 0.5 * EDGE_M[res]  # ring k is at least 1.5 k edges away; cells shrink to ~0.5x
    rings = np.ceil((radius_m[owners] + DESCENT_M[res]) / step).astype(np.int64) + 1
    if len(rings):
        shapes.spend_cells(shapes.disk_size(int(rings.max())), "a watch circle")
    starts = np.array(
        [h3i.latlng_to_cell(a, b, res) for a, b in zip(lat[owners], lon[owners], strict=True)],
        np.int64,
    )
    keys = np.stack([starts, rings], axis=-1)
    distinct, which = np.unique(keys, axis=0, return_inverse=True)
    disks = [np.array(h3i.grid_disk(int(c), int(k)), np.int64) for c, k in distinct.tolist()]
    sizes = np.array([len(d) for d in disks], np.int64)[which.ravel()]
    order = np.argsort(which.ravel(), kind="stable")
    owner_out = np.repeat(owners[order], sizes[order])
    runs = [disks[w] for w in which.ravel()[order].tolist()]
    return owner_out.astype(np.int64), np.concatenate(runs) if runs else np.zeros(0, np.int64)


def _distance_m(points: npt.NDArray[np.float64], cells: Int64s, known: CentreCache) -> Floats:
    """Great-circle distance from each point to the centre of its cell (chord form, precise)."""
    unique, inverse = np.unique(cells, return_inverse=True)
    latlng = np.array([known.get(c) or _centre(known, c) for c in unique.tolist()], np.float64)
    centres = unit_vectors(latlng[:, 0], latlng[:, 1])[inverse]
    chord = np.sqrt(((points - centres) ** 2).sum(axis=1))
    distance: Floats = 2 * geo.EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, chord / 2))
    return distance


def _centre(known: CentreCache, cell: int) -> tuple[float, float]:
    found: tuple[float, float] = h3i.cell_to_latlng(cell)
    known[cell] = found
    return found


def _children(owner: Int64s, cells: Int64s, res: int) -> tuple[Int64s, Int64s]:
    """The 7 children of each cell (6 for pentagons) by setting the next digit directly."""
    shift = 3 * (LOOKUP_RESOLUTION - res - 1)
    base = (cells & ~np.int64(_RES_MASK | (7 << shift))) | np.int64((res + 1) << 52)
    kids = base[:, None] | (np.arange(7, dtype=np.int64) << shift)[None, :]
    owners = np.repeat(owner, 7)
    kids = kids.ravel()
    digits = (cells >> (3 * (LOOKUP_RESOLUTION - res))) & ((1 << (3 * res)) - 1)
    pentagon = np.isin((cells >> 45) & 0x7F, _PENTAGON_BASES) & (digits == 0)
    if pentagon.any():  # a pentagon has no child in direction 1 (the deleted K axis)
        keep = ~(np.repeat(pentagon, 7) & (np.tile(np.arange(7), len(cells)) == 1))
        return owners[keep], kids[keep]
    return owners, kids
