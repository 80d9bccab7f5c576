"""The geofence index: which watch areas contain a point, without touching the store.

Each area is covered once by H3 cells (see `cover`): coarse cells wholly inside the area
and fine edge cells. Each cell holds a numpy array of the subscription ids inside it and one
of the slots of areas whose edge crosses it. A point is matched by taking the ancestors of its
resolution-15 cell at each resolution in use: a dict look-up each, one concatenation of the
inside ids, and one vectorised test of the edge candidates (a dot product of unit vectors
against the cosine of each radius). Candidates too close to call, and polygons, get the exact
scalar test, so the answer is exactly what `Area.contains` says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3i

from townsquare import geo
from townsquare.alerts.cover import (
    CHILD_OFFSET_FACTOR,
    CIRCUMRADIUS_FACTOR,
    EDGE_M,
    LOOKUP_RESOLUTION,
    Area,
    CellArea,
    CentreCache,
    CircleArea,
    Cover,
    Floats,
    Int64s,
    PolygonArea,
    circle_covers,
    cover,
    resolution_of,
    unit_vectors,
)

__all__ = [
    "CHILD_OFFSET_FACTOR",
    "CIRCUMRADIUS_FACTOR",
    "EDGE_M",
    "Area",
    "CellArea",
    "CircleArea",
    "Cover",
    "GeofenceIndex",
    "PolygonArea",
    "cover",
]

UNSURE_COS = 1e-12
"""Edge candidates whose dot product is this close to the cosine get the scalar test."""
CHUNK = 100_000
"""Areas covered per numpy pass when building (bounds the temporary arrays)."""
_EMPTY = np.zeros(0, np.int64)
_NO_PARAMS = np.zeros((0, 4), np.float64)
_EMPTY_ENTRY = (_EMPTY, _EMPTY, _NO_PARAMS)


def _parent_masks(res: int) -> tuple[int, int]:
    """AND and OR masks turning a resolution-15 cell into its ancestor at `res`."""
    low = (1 << (3 * (LOOKUP_RESOLUTION - res))) - 1
    return ~((0xF << 52) | low), (res << 52) | low


Entry = tuple[Int64s, Int64s, Floats]
"""A cell's inside ids, edge ids, and the edge areas' x, y, z, cos(radius) (NaN: polygon)."""


class GeofenceIndex:
    """Cell -> inside ids and edge ids with their test parameters inline (no scattered reads)."""

    def __init__(self) -> None:
        self._cells: dict[int, Entry] = {}
        self._per_res: Counter[int] = Counter()
        self._levels: list[tuple[int, int]] = []
        self._areas: dict[int, Area] = {}
        self._covers: dict[int, tuple[Int64s, Int64s] | None] = {}  # None: recompute

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._areas

    def add(self, subscription_id: int, area: Area, cells: Cover | None = None) -> Cover:
        """Index one area (replacing any earlier one of the same id); returns its cover."""
        self.remove(subscription_id)
        found = cells or cover(area)
        self._areas[subscription_id] = area
        inside = np.array(found.inside, np.int64)
        edge = np.array(found.edge, np.int64)
        self._covers[subscription_id] = (inside, edge)
        one = np.array([subscription_id], np.int64)
        params = _params([area])
        for cell in inside.tolist():
            ids, eids, eparams = self._cells.get(cell, _EMPTY_ENTRY)
            self._put(cell, (np.concatenate([ids, one]), eids, eparams))
        for cell in edge.tolist():
            ids, eids, eparams = self._cells.get(cell, _EMPTY_ENTRY)
            self._put(cell, (ids, np.concatenate([eids, one]), np.concatenate([eparams, params])))
        return found

    def remove(self, subscription_id: int) -> None:
        """Forget an area; unknown ids are ignored (events may repeat)."""
        if subscription_id not in self._areas:
            return
        inside, edge = self._cover_arrays(subscription_id)
        del self._covers[subscription_id]
        del self._areas[subscription_id]
        for cell in inside.tolist():
            ids, eids, eparams = self._cells[cell]
            self._put(cell, (ids[ids != subscription_id], eids, eparams))
        for cell in edge.tolist():
            ids, eids, eparams = self._cells[cell]
            keep = eids != subscription_id
            self._put(cell, (ids, eids[keep], eparams[keep]))

    def match(self, lat: float, lon: float) -> list[int]:
        """Every subscription whose area contains the point (each once)."""
        return self.match_ids(lat, lon).tolist()  # type: ignore[no-any-return]

    def match_ids(self, lat: float, lon: float) -> Int64s:
        """`match` as a numpy array of ids, with no Python object per subscriber."""
        point = h3i.latlng_to_cell(lat, lon, LOOKUP_RESOLUTION)
        found: list[Int64s] = []
        edge: list[Entry] = []
        get = self._cells.get
        for and_mask, or_mask in self._levels:
            entry = get((point & and_mask) | or_mask)
            if entry is not None:
                found.append(entry[0])
                if len(entry[1]):
                    edge.append(entry)
        if edge:
            ids = np.concatenate([e[1] for e in edge])
            params = np.concatenate([e[2] for e in edge])
            found.append(self._test_edge(ids, params, lat, lon))
        return np.concatenate(found) if found else _EMPTY

    def _test_edge(self, ids: Int64s, params: Floats, lat: float, lon: float) -> Int64s:
        """The ids among edge candidates whose areas hold the point."""
        gap = params[:, :3] @ unit_vectors(np.array([lat]), np.array([lon]))[0] - params[:, 3]
        hits: Int64s = ids[gap > UNSURE_COS]
        unsure = ~(np.abs(gap) > UNSURE_COS)  # NaN (polygons) lands here too
        if not unsure.any():
            return hits
        areas = self._areas
        exact = [s for s in ids[unsure].tolist() if areas[s].contains(lat, lon)]
        return np.concatenate([hits, np.array(exact, np.int64)])

    def cells_of(self, subscription_id: int) -> Cover | None:
        """The cover of one indexed area."""
        if subscription_id not in self._areas:
            return None
        found = self._cover_arrays(subscription_id)
        finest = int(resolution_of(np.concatenate(found)).max())
        return Cover(finest, tuple(found[0].tolist()), tuple(found[1].tolist()))

    @classmethod
    def build(cls, entries: Iterable[tuple[int, Area, Cover | None]]) -> GeofenceIndex:
        """An index of many areas at once: covers and cell tables made with numpy in bulk."""
        index = cls()
        for subscription_id, area, cells in entries:
            index._areas[subscription_id] = area
            index._covers[subscription_id] = None
            if cells:
                given = np.array(cells.inside, np.int64), np.array(cells.edge, np.int64)
                index._covers[subscription_id] = given
        order = list(index._areas)
        ids = np.array(order, np.int64)
        areas = [index._areas[i] for i in order]
        params = _params(areas)
        pairs: list[tuple[Int64s, Int64s, Int64s, Int64s]] = []
        todo = [n for n, a in enumerate(areas) if isinstance(a, CircleArea)]
        todo = [n for n in todo if index._covers[order[n]] is None]
        for n, i in enumerate(order):
            got = index._covers[i]
            if got is None and not isinstance(areas[n], CircleArea):
                again = cover(areas[n])
                got = (np.array(again.inside, np.int64), np.array(again.edge, np.int64))
            if got is not None:
                pairs.append((np.full(len(got[0]), n), got[0], np.full(len(got[1]), n), got[1]))
        known: CentreCache = {}
        for start in range(0, len(todo), CHUNK):
            slots = np.array(todo[start : start + CHUNK], np.int64)
            bulk = circle_covers(*_circles(areas, slots), known)
            pairs.append(
                (slots[bulk.inside_owner], bulk.inside_cell, slots[bulk.edge_owner], bulk.edge_cell)
            )
        in_slots, in_cells = _joined([p[0] for p in pairs]), _joined([p[1] for p in pairs])
        edge_slots, edge_cells = _joined([p[2] for p in pairs]), _joined([p[3] for p in pairs])
        del pairs  # the peak is here at a million areas: let go of every copy early
        inside = _grouped(in_cells, in_slots, lambda s: (ids[s],))
        del in_cells, in_slots
        edge = _grouped(edge_cells, edge_slots, lambda s: (ids[s], params[s]))
        del edge_cells, edge_slots
        for cell in inside.keys() | edge.keys():
            got_in = inside.get(cell, (_EMPTY,))[0]
            got_edge = edge.get(cell, (_EMPTY, _NO_PARAMS))
            index._cells[cell] = (got_in, got_edge[0], got_edge[1])
        index._per_res = Counter(resolution_of(np.array(list(index._cells), np.int64)).tolist())
        index._levels = [_parent_masks(res) for res in sorted(index._per_res)]
        return index

    def _cover_arrays(self, subscription_id: int) -> tuple[Int64s, Int64s]:
        """The inside and edge cells of an indexed area (covers made in bulk are recomputed)."""
        found = self._covers[subscription_id]
        if found is None:
            again = cover(self._areas[subscription_id])
            return np.array(again.inside, np.int64), np.array(again.edge, np.int64)
        return found

    def _put(self, cell: int, entry: Entry) -> None:
        """Store one cell's arrays, keeping the resolutions in use current."""
        res = (cell >> 52) & 0xF
        known = cell in self._cells
        if len(entry[0]) or len(entry[1]):
            self._cells[cell] = entry
            if not known:
                self._per_res[res] += 1
        elif known:
            del self._cells[cell]
            self._per_res[res] -= 1
            if not self._per_res[res]:
                del self._per_res[res]
        else:
            return
        self._levels = [_parent_masks(r) for r in sorted(self._per_res)]


def _params(areas: list[Area]) -> Floats:
    """Each area's unit vector and cosine of its angular radius; NaN rows for polygons."""
    out = np.full((len(areas), 4), np.nan)
    rows = [n for n, a in enumerate(areas) if isinstance(a, CircleArea)]
    circles = [a for a in areas if isinstance(a, CircleArea)]
    if circles:
        lat, lon, radius = _circles(circles, np.arange(len(circles)))
        out[rows, :3] = unit_vectors(lat, lon)
        out[rows, 3] = np.cos(radius / geo.EARTH_RADIUS_M)
    return out


def _circles(areas: Sequence[Area], slots: Int64s) -> tuple[Floats, Floats, Floats]:
    """Centre latitudes, longitudes and radii of the circles at `slots`."""
    chosen = [areas[n] for n in slots.tolist()]
    circles = [a for a in chosen if isinstance(a, CircleArea)]
    return (
        np.array([a.lat for a in circles], np.float64),
        np.array([a.lon for a in circles], np.float64),
        np.array([a.radius_m for a in circles], np.float64),
    )


def _joined(parts: list[Int64s]) -> Int64s:
    return np.concatenate(parts) if parts else _EMPTY


def _grouped(
    cells: Int64s, slots: Int64s, columns_of: Callable[[Int64s], tuple[npt.NDArray[Any], ...]]
) -> dict[int, tuple[Any, ...]]:
    """Columns of the slots grouped by cell, each group a view of one array sorted by cell."""
    if not len(cells):
        return {}
    order = np.argsort(cells)
    cells = cells[order]
    columns = columns_of(slots[order])
    del order
    starts = np.flatnonzero(np.diff(cells, prepend=-1))
    ends = np.append(starts[1:], len(cells))
    return {
        k: tuple(c[s:e] for c in columns)
        for k, s, e in zip(cells[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)
    }
