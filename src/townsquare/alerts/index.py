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
from collections.abc import Iterable

import numpy as np
from h3.api import basic_int as h3i

from townsquare import geo
from townsquare.alerts.cover import (
    CIRCUMRADIUS_FACTOR,
    EDGE_M,
    LOOKUP_RESOLUTION,
    Area,
    CircleArea,
    Cover,
    Int64s,
    PolygonArea,
    circle_covers,
    cover,
    resolution_of,
    unit_vectors,
)

__all__ = [
    "CIRCUMRADIUS_FACTOR",
    "EDGE_M",
    "Area",
    "CircleArea",
    "Cover",
    "GeofenceIndex",
    "PolygonArea",
    "cover",
]

UNSURE_COS = 1e-12
"""Edge candidates whose dot product is this close to the cosine get the scalar test."""
CHUNK = 20_000
"""Areas covered per numpy pass when building (bounds the temporary arrays)."""
_EMPTY = np.zeros(0, np.int64)


def _parent_masks(res: int) -> tuple[int, int]:
    """AND and OR masks turning a resolution-15 cell into its ancestor at `res`."""
    low = (1 << (3 * (LOOKUP_RESOLUTION - res))) - 1
    return ~((0xF << 52) | low), (res << 52) | low


class GeofenceIndex:
    """Cell -> (inside ids, edge slots), plus each area's unit vector and radius cosine."""

    def __init__(self) -> None:
        self._cells: dict[int, tuple[Int64s, Int64s]] = {}
        self._per_res: Counter[int] = Counter()
        self._levels: list[tuple[int, int]] = []
        self._slot: dict[int, int] = {}
        self._areas: dict[int, Area] = {}
        self._covers: dict[int, tuple[Int64s, Int64s]] = {}
        self._free: list[int] = []
        self._ids = np.zeros(0, np.int64)
        self._params = np.zeros((0, 4), np.float64)  # x, y, z, cos(radius); NaN for polygons

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._areas

    def add(self, subscription_id: int, area: Area, cells: Cover | None = None) -> Cover:
        """Index one area (replacing any earlier one of the same id); returns its cover."""
        self.remove(subscription_id)
        found = cells or cover(area)
        slot = self._new_slot(subscription_id, area)
        inside = np.array(found.inside, np.int64)
        edge = np.array(found.edge, np.int64)
        self._covers[subscription_id] = (inside, edge)
        for cell in inside.tolist():
            ids, slots = self._cells.get(cell, (_EMPTY, _EMPTY))
            self._put(cell, np.append(ids, subscription_id), slots)
        for cell in edge.tolist():
            ids, slots = self._cells.get(cell, (_EMPTY, _EMPTY))
            self._put(cell, ids, np.append(slots, slot))
        return found

    def remove(self, subscription_id: int) -> None:
        """Forget an area; unknown ids are ignored (events may repeat)."""
        found = self._covers.pop(subscription_id, None)
        if found is None:
            return
        del self._areas[subscription_id]
        slot = self._slot.pop(subscription_id)
        for cell in found[0].tolist():
            ids, slots = self._cells[cell]
            self._put(cell, ids[ids != subscription_id], slots)
        for cell in found[1].tolist():
            ids, slots = self._cells[cell]
            self._put(cell, ids, slots[slots != slot])
        self._params[slot] = np.nan
        self._free.append(slot)

    def match(self, lat: float, lon: float) -> list[int]:
        """Every subscription whose area contains the point (each once)."""
        return self.match_ids(lat, lon).tolist()  # type: ignore[no-any-return]

    def match_ids(self, lat: float, lon: float) -> Int64s:
        """`match` as a numpy array of ids, with no Python object per subscriber."""
        point = h3i.latlng_to_cell(lat, lon, LOOKUP_RESOLUTION)
        inside: list[Int64s] = []
        edge: list[Int64s] = []
        get = self._cells.get
        for and_mask, or_mask in self._levels:
            entry = get((point & and_mask) | or_mask)
            if entry is not None:
                inside.append(entry[0])
                edge.append(entry[1])
        if not inside:
            return _EMPTY
        if any(len(e) for e in edge):
            inside.append(self._test_edge(np.concatenate(edge), lat, lon))
        return np.concatenate(inside)

    def _test_edge(self, slots: Int64s, lat: float, lon: float) -> Int64s:
        """The ids among edge candidates whose areas hold the point."""
        params = self._params[slots]
        gap = params[:, :3] @ unit_vectors(np.array([lat]), np.array([lon]))[0] - params[:, 3]
        hits: Int64s = self._ids[slots[gap > UNSURE_COS]]
        unsure = ~(np.abs(gap) > UNSURE_COS)  # NaN (polygons) lands here too
        if not unsure.any():
            return hits
        areas = self._areas
        exact = [s for s in self._ids[slots[unsure]].tolist() if areas[s].contains(lat, lon)]
        return np.concatenate([hits, np.array(exact, np.int64)])

    def cells_of(self, subscription_id: int) -> Cover | None:
        """The cover of one indexed area."""
        found = self._covers.get(subscription_id)
        if found is None:
            return None
        finest = int(resolution_of(np.concatenate(found)).max())
        return Cover(finest, tuple(found[0].tolist()), tuple(found[1].tolist()))

    @classmethod
    def build(cls, entries: Iterable[tuple[int, Area, Cover | None]]) -> GeofenceIndex:
        """An index of many areas at once: covers and cell tables made with numpy in bulk."""
        index = cls()
        io: list[Int64s] = []
        ic: list[Int64s] = []
        es: list[Int64s] = []
        ec: list[Int64s] = []
        todo: list[tuple[int, CircleArea]] = []
        for subscription_id, area, cells in entries:
            if subscription_id in index._areas:
                index.remove(subscription_id)
            slot = index._new_slot(subscription_id, area)
            if cells is None and isinstance(area, CircleArea):
                todo.append((slot, area))
                continue
            found = cells or cover(area)
            io.append(np.full(len(found.inside), slot, np.int64))
            ic.append(np.array(found.inside, np.int64))
            es.append(np.full(len(found.edge), slot, np.int64))
            ec.append(np.array(found.edge, np.int64))
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            slots = np.array([s for s, _ in chunk], np.int64)
            got = circle_covers(
                np.array([a.lat for _, a in chunk]),
                np.array([a.lon for _, a in chunk]),
                np.array([a.radius_m for _, a in chunk]),
            )
            io.append(slots[got.inside_owner])
            ic.append(got.inside_cell)
            es.append(slots[got.edge_owner])
            ec.append(got.edge_cell)
        index._fill(_joined(io), _joined(ic), _joined(es), _joined(ec))
        return index

    def _fill(
        self, in_slots: Int64s, in_cells: Int64s, edge_slots: Int64s, edge_cells: Int64s
    ) -> None:
        """Set the cell tables and per-area covers of an empty index from (slot, cell) pairs."""
        for slots, cells, part in ((in_slots, in_cells, 0), (edge_slots, edge_cells, 1)):
            order = np.argsort(slots, kind="stable")
            bounds = np.searchsorted(slots[order], np.arange(len(self._ids) + 1))
            sorted_cells = cells[order]
            for sub_id, slot in self._slot.items():
                got = sorted_cells[bounds[slot] : bounds[slot + 1]]
                pair = self._covers.get(sub_id, (_EMPTY, _EMPTY))
                self._covers[sub_id] = (got, pair[1]) if part == 0 else (pair[0], got)
        inside = _grouped(in_cells, self._ids[in_slots])
        edge = _grouped(edge_cells, edge_slots)
        for cell in inside.keys() | edge.keys():
            self._cells[cell] = (inside.get(cell, _EMPTY), edge.get(cell, _EMPTY))
        self._per_res = Counter(resolution_of(np.array(list(self._cells), np.int64)).tolist())
        self._levels = [_parent_masks(res) for res in sorted(self._per_res)]

    def _put(self, cell: int, ids: Int64s, slots: Int64s) -> None:
        """Store one cell's arrays, keeping the resolutions in use current."""
        res = (cell >> 52) & 0xF
        known = cell in self._cells
        if len(ids) or len(slots):
            self._cells[cell] = (ids, slots)
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

    def _new_slot(self, subscription_id: int, area: Area) -> int:
        """A row for the area's id and test parameters."""
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._ids)
            grow = max(16, slot)
            self._ids = np.concatenate([self._ids, np.zeros(grow, np.int64)])
            self._params = np.concatenate([self._params, np.full((grow, 4), np.nan)])
            self._free.extend(range(slot + grow - 1, slot, -1))
        self._slot[subscription_id] = slot
        self._areas[subscription_id] = area
        self._ids[slot] = subscription_id
        if isinstance(area, CircleArea):
            self._params[slot, :3] = unit_vectors(np.array([area.lat]), np.array([area.lon]))[0]
            self._params[slot, 3] = np.cos(area.radius_m / geo.EARTH_RADIUS_M)
        return slot


def _joined(parts: list[Int64s]) -> Int64s:
    return np.concatenate(parts) if parts else _EMPTY


def _grouped(cells: Int64s, values: Int64s) -> dict[int, Int64s]:
    """Values grouped by cell, each group a view of one sorted array."""
    order = np.argsort(cells, kind="stable")
    cells, values = cells[order], values[order]
    keys, starts = np.unique(cells, return_index=True)
    ends = np.append(starts[1:], len(cells))
    return {
        k: values[s:e]
        for k, s, e in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }
