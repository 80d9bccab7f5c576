"""The geofence index: which watch areas contain a point, without touching the store.

Each area is covered once by H3 cells (see `cover`): coarse cells wholly inside the area
and fine edge cells. Each area gets a slot; its id and test parameters live in per-slot
numpy arrays. The cells live in one table, compressed sparse rows: the sorted distinct cells,
and for each the run of slots inside it and the run of slots whose edge crosses it, all in a
few flat arrays (no Python object per cell or per area, so a million areas fit in well under
a gigabyte). A point is matched by taking the ancestors of its resolution-15 cell at each
resolution in use, one `searchsorted` for all of them, one concatenation of the inside runs,
and one vectorised test of the edge candidates (a dot product of unit vectors against the
cosine of each radius). Candidates too close to call, and polygons, get the exact scalar test,
so the answer is exactly what `Area.contains` says.

Areas added after the build go to a small dict of cells until they outgrow a share of the
table, when both are merged into a new table; a removed area's slot is marked dead until then.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
"""Circles covered per numpy pass when building (bounds the temporary arrays)."""
MERGE_SHARE = 8
"""Cells added (or areas removed) since the table was made are merged past 1/this of it."""
PLACE_RESOLUTION = 9
"""Slots are ordered by a cell of each area, in H3 order, to this resolution (~0.1 km²)."""
MERGE_FLOOR = 50_000
"""... and past this many, so that small indexes do not rebuild their table on every change."""
_EMPTY = np.zeros(0, np.int64)
_NO_SLOTS = np.zeros(0, np.int32)
Int32s = npt.NDArray[np.int32]


def _parent_masks(res: int) -> tuple[int, int]:
    """AND and OR masks turning a resolution-15 cell into its ancestor at `res`."""
    low = (1 << (3 * (LOOKUP_RESOLUTION - res))) - 1
    return ~((0xF << 52) | low), (res << 52) | low


@dataclass(frozen=True, slots=True)
class _Table:
    """Sorted distinct cells and, per cell, its run of inside slots and of edge slots."""

    cells: Int64s
    inside_at: Int64s  # len(cells) + 1 offsets into `inside`
    inside: Int32s
    edge_at: Int64s
    edge: Int32s

    @classmethod
    def of(
        cls, in_cells: Int64s, in_slots: Int32s, edge_cells: Int64s, edge_slots: Int32s
    ) -> _Table:
        cells = np.union1d(in_cells, edge_cells)
        inside_at, inside = _runs(cells, in_cells, in_slots)
        edge_at, edge = _runs(cells, edge_cells, edge_slots)
        return cls(cells, inside_at, inside, edge_at, edge)

    def pairs(self, edge: bool) -> tuple[Int64s, Int32s]:
        """Every (cell, slot) of one kind, cells repeated."""
        at, slots = (self.edge_at, self.edge) if edge else (self.inside_at, self.inside)
        return np.repeat(self.cells, np.diff(at)), slots

    def __len__(self) -> int:
        return len(self.inside) + len(self.edge)


def _place_key(cells: Int64s) -> Int64s:
    """A sort key putting cells of every resolution in H3's spatial order, to `PLACE_RESOLUTION`:
    the resolution field cleared and the digits below it zeroed."""
    shift = 3 * (LOOKUP_RESOLUTION - np.minimum(resolution_of(cells), PLACE_RESOLUTION))
    return cells & ~np.int64(0xF << 52) & ~((np.int64(1) << shift) - 1)


def _runs(cells: Int64s, of_cells: Int64s, slots: Int32s) -> tuple[Int64s, Int32s]:
    """Offsets of each of `cells` into the slots sorted by cell (stable: slot order kept)."""
    order = np.argsort(of_cells, kind="stable")
    ordered = of_cells[order]
    at = np.empty(len(cells) + 1, np.int64)
    at[:-1] = np.searchsorted(ordered, cells)
    at[-1] = len(ordered)
    del ordered
    return at, slots[order].astype(np.int32, copy=False)


class GeofenceIndex:
    """Cells -> slots of the areas inside them or crossing them; per-slot ids and parameters."""

    def __init__(self, merge_floor: int = MERGE_FLOOR) -> None:
        self.merge_floor = merge_floor
        self._slot_of: dict[int, int] = {}
        self._ids = _EMPTY.copy()
        self._params = np.zeros((0, 4))  # x, y, z, cos(radius) of circles; NaN: exact test
        self._circles = np.zeros((0, 3))  # lat, lon, radius of circles (the exact test)
        self._shapes: dict[int, Area] = {}  # slot -> polygon (the exact test)
        self._alive = np.zeros(0, np.bool_)
        self._used = self._dead = 0
        self._table = _Table.of(_EMPTY, _NO_SLOTS, _EMPTY, _NO_SLOTS)
        self._added: dict[int, tuple[list[int], list[int]]] = {}  # cell -> inside, edge slots
        self._added_pairs = 0
        self._resolutions: set[int] = set()
        self._ands = self._ors = _EMPTY

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._slot_of

    def add(self, subscription_id: int, area: Area, cells: Cover | None = None) -> Cover:
        """Index one area (replacing any earlier one of the same id); returns its cover."""
        self.remove(subscription_id)
        found = cells or cover(area)
        slot = self._used
        if slot == len(self._ids):
            self._grow(max(1024, 2 * slot))
        self._used += 1
        self._slot_of[subscription_id] = slot
        self._ids[slot], self._alive[slot] = subscription_id, True
        lat, lon, radius = _circle_columns([area])
        self._circles[slot] = lat[0], lon[0], radius[0]
        self._params[slot] = _params(lat, lon, radius)[0]
        if isinstance(area, PolygonArea):
            self._shapes[slot] = area
        for kind, cells_of_kind in enumerate((found.inside, found.edge)):
            for cell in cells_of_kind:
                self._added.setdefault(cell, ([], []))[kind].append(slot)
        self._added_pairs += len(found.inside) + len(found.edge)
        self._use(np.array(found.inside + found.edge, np.int64))
        self._merge_if_due()
        return found

    def remove(self, subscription_id: int) -> None:
        """Forget an area; unknown ids are ignored (events may repeat)."""
        slot = self._slot_of.pop(subscription_id, None)
        if slot is None:
            return
        self._alive[slot] = False
        self._shapes.pop(slot, None)
        self._dead += 1
        self._merge_if_due()

    def match(self, lat: float, lon: float) -> list[int]:
        """Every subscription whose area contains the point (each once)."""
        return self.match_ids(lat, lon).tolist()  # type: ignore[no-any-return]

    def match_ids(self, lat: float, lon: float) -> Int64s:
        """`match` as a numpy array of ids, with no Python object per subscriber."""
        wanted = self._wanted(lat, lon)
        inside: list[Int32s] = []
        edge: list[Int32s] = []
        table = self._table
        if len(table.cells):
            at = np.minimum(np.searchsorted(table.cells, wanted), len(table.cells) - 1)
            hits = at[table.cells[at] == wanted]
            for runs, slots, out in (
                (table.inside_at, table.inside, inside),
                (table.edge_at, table.edge, edge),
            ):
                for a, b in zip(runs[hits].tolist(), runs[hits + 1].tolist(), strict=True):
                    if b > a:
                        out.append(slots[a:b])
        if self._added:
            more_inside, more_edge = self._added_near(wanted)
            inside.append(more_inside)
            edge += more_edge
        if edge:
            inside.append(self._test_edge(np.concatenate(edge), lat, lon))
        found: Int64s = self._ids.take(self._live(np.concatenate(inside) if inside else _NO_SLOTS))
        return found

    def _wanted(self, lat: float, lon: float) -> Int64s:
        """The point's ancestor cell at each resolution the table uses."""
        point = np.int64(h3i.latlng_to_cell(lat, lon, LOOKUP_RESOLUTION))
        wanted: Int64s = (point & self._ands) | self._ors
        return wanted

    def _added_near(self, wanted: Int64s) -> tuple[Int32s, list[Int32s]]:
        """Slots of areas added since the table was made: inside the point's cells, and the
        runs of those whose edge crosses them."""
        inside: list[int] = []
        edge: list[Int32s] = []
        for cell in wanted.tolist():
            got = self._added.get(cell)
            if got is not None:
                inside += got[0]
                edge.append(np.array(got[1], np.int32))
        return np.array(inside, np.int32), edge

    def _live(self, slots: Int32s) -> Int32s:
        """`slots` less those of removed areas."""
        return slots[self._alive.take(slots)] if self._dead else slots

    def _test_edge(self, slots: Int32s, lat: float, lon: float) -> Int32s:
        """The slots among edge candidates whose areas hold the point."""
        params = np.take(self._params, slots, axis=0)  # far faster than fancy indexing
        gap = params[:, :3] @ unit_vectors(np.array([lat]), np.array([lon]))[0] - params[:, 3]
        hits: Int32s = slots[gap > UNSURE_COS]
        unsure = slots[~(np.abs(gap) > UNSURE_COS)]  # NaN (polygons) lands here too
        if not len(unsure):
            return hits
        return np.concatenate([hits, self._exact(unsure, lat, lon)])

    def _exact(self, slots: Int32s, lat: float, lon: float) -> Int32s:
        """The slots, among candidates too close to call, whose areas hold the point."""
        return np.array([s for s in slots.tolist() if self._contains(s, lat, lon)], np.int32)

    def _contains(self, slot: int, lat: float, lon: float) -> bool:
        shape = self._shapes.get(slot)
        if shape is not None:
            return shape.contains(lat, lon)
        clat, clon, radius = self._circles[slot].tolist()
        return bool(geo.haversine_m(clat, clon, lat, lon) <= radius)

    def cells_of(self, subscription_id: int) -> Cover | None:
        """The cover of one indexed area (a scan of the table: for inspection, not matching)."""
        slot = self._slot_of.get(subscription_id)
        if slot is None:
            return None
        kinds: list[list[int]] = []
        for kind, (runs, slots) in enumerate(
            ((self._table.inside_at, self._table.inside), (self._table.edge_at, self._table.edge))
        ):
            where = np.flatnonzero(slots == slot)
            found = self._table.cells[np.searchsorted(runs, where, side="right") - 1].tolist()
            found += [cell for cell, got in self._added.items() if slot in got[kind]]
            kinds.append(sorted(found))
        finest = int(resolution_of(np.array(kinds[0] + kinds[1], np.int64)).max())
        return Cover(finest, tuple(kinds[0]), tuple(kinds[1]))

    @classmethod
    def build(
        cls, entries: Iterable[tuple[int, Area, Cover | None]], merge_floor: int = MERGE_FLOOR
    ) -> GeofenceIndex:
        """An index of many areas at once: covers and the cell table made with numpy in bulk.

        A repeated id keeps its last area. Only circles and polygons keep anything per area
        beyond their slot: a cell area is its cover, so nothing of it needs keeping.
        """
        index = cls(merge_floor)
        ids, lats, lons, radii = array("q"), array("d"), array("d"), array("d")
        pairs = [(array("q"), array("q")), (array("q"), array("q"))]  # inside, edge: cell, slot
        todo = array("q")
        nan = float("nan")
        for slot, (subscription_id, area, cells) in enumerate(entries):
            ids.append(subscription_id)
            circle = isinstance(area, CircleArea)
            lats.append(area.lat if isinstance(area, CircleArea) else nan)
            lons.append(area.lon if isinstance(area, CircleArea) else nan)
            radii.append(area.radius_m if isinstance(area, CircleArea) else nan)
            if isinstance(area, PolygonArea):
                index._shapes[slot] = area
            if cells is None and circle:
                todo.append(slot)
                continue
            found = cells or cover(area)
            for (cell_column, slot_column), kind in zip(
                pairs, (found.inside, found.edge), strict=True
            ):
                cell_column.extend(kind)
                slot_column.extend([slot] * len(kind))
        n = len(ids)
        index._ids = np.array(ids, np.int64)
        lat, lon, radius = (np.array(c, np.float64) for c in (lats, lons, radii))
        del lats, lons, radii
        index._circles = np.stack([lat, lon, radius], axis=-1)
        index._params = _params(lat, lon, radius)
        columns: list[list[Int64s | Int32s]] = [
            [np.array(cells, np.int64), np.array(slots, np.int32)] for cells, slots in pairs
        ]
        del pairs
        known: CentreCache = {}
        owners = np.array(todo, np.int64)
        for start in range(0, len(owners), CHUNK):
            chosen = owners[start : start + CHUNK]
            bulk = circle_covers(lat[chosen], lon[chosen], radius[chosen], known)
            columns[0] += [bulk.inside_cell, chosen[bulk.inside_owner].astype(np.int32)]
            columns[1] += [bulk.edge_cell, chosen[bulk.edge_owner].astype(np.int32)]
            del bulk
        del known, owners
        index._table = _table_of(columns)
        index._used = n
        index._alive = np.ones(n, np.bool_)
        last = dict(zip(index._ids.tolist(), range(n), strict=True))
        if len(last) < n:  # repeated ids: the earlier slots are dead
            index._alive[:] = False
            index._alive[list(last.values())] = True
            index._dead = n - len(last)
        index._slot_of = last
        index._use(index._table.cells)
        index._renumber_by_place()
        return index

    @classmethod
    def from_cells(
        cls, subscription_ids: Int64s, cells: Int64s, merge_floor: int = MERGE_FLOOR
    ) -> GeofenceIndex:
        """An index of stored covers given as (subscription id, cell) rows: the cells are the
        areas (`CellArea`), so nothing is kept per area but its slot and no Python object is
        made per row."""
        index = cls(merge_floor)
        ids, slots = np.unique(subscription_ids, return_inverse=True)
        n = len(ids)
        key = np.zeros(n, np.int64)
        key[slots] = _place_key(cells)  # slots in place order from the start (see below)
        order = np.argsort(key, kind="stable")
        renumber = np.empty(n, np.int32)
        renumber[order] = np.arange(n, dtype=np.int32)
        index._ids = ids[order].astype(np.int64)
        index._table = _Table.of(cells, renumber[slots], _EMPTY, _NO_SLOTS)
        index._params, index._circles = np.full((n, 4), np.nan), np.full((n, 3), np.nan)
        index._used, index._alive = n, np.ones(n, np.bool_)
        index._slot_of = dict(zip(index._ids.tolist(), range(n), strict=True))
        index._use(index._table.cells)
        return index

    def _renumber_by_place(self) -> None:
        """Give neighbouring areas neighbouring slots (by a cell of theirs, in H3 order, which
        is spatial: `_place_key`), so that a match reads a few close stretches of the
        per-slot arrays instead of thousands of scattered ones: areas arrive in sign-up order,
        which is no order in space, and at a million areas the scattered reads miss the cache.
        """
        n, table = self._used, self._table
        key = np.zeros(n, np.int64)
        for edge in (False, True):
            cells, slots = table.pairs(edge)
            key[slots] = _place_key(cells)
        order = np.argsort(key, kind="stable")
        renumber = np.empty(n, np.int32)
        renumber[order] = np.arange(n, dtype=np.int32)
        self._table = _Table(
            table.cells,
            table.inside_at,
            renumber[table.inside],
            table.edge_at,
            renumber[table.edge],
        )
        self._ids, self._alive = self._ids[order], self._alive[order]
        self._params, self._circles = self._params[order], self._circles[order]
        self._shapes = {int(renumber[s]): area for s, area in self._shapes.items()}
        alive = np.flatnonzero(self._alive)
        self._slot_of = dict(zip(self._ids[alive].tolist(), alive.tolist(), strict=True))

    def _use(self, cells: Int64s) -> None:
        """Look up the resolutions of `cells` from now on."""
        fresh = set(np.unique(resolution_of(cells)).tolist()) - self._resolutions
        if fresh:
            self._resolutions |= fresh
            masks = [_parent_masks(res) for res in sorted(self._resolutions)]
            self._ands = np.array([m[0] for m in masks], np.int64)
            self._ors = np.array([m[1] for m in masks], np.int64)

    def _grow(self, capacity: int) -> None:
        extra = capacity - len(self._ids)
        self._ids = np.concatenate([self._ids, np.zeros(extra, np.int64)])
        self._alive = np.concatenate([self._alive, np.zeros(extra, np.bool_)])
        self._params = np.concatenate([self._params, np.full((extra, 4), np.nan)])
        self._circles = np.concatenate([self._circles, np.full((extra, 3), np.nan)])

    def _merge_if_due(self) -> None:
        due = max(self.merge_floor, len(self._table) // MERGE_SHARE)
        if self._added_pairs > due or self._dead > max(self.merge_floor, len(self) // MERGE_SHARE):
            self._merge()

    def _merge(self) -> None:
        """One new table of the live slots, renumbered, with the added cells merged in."""
        keep = np.flatnonzero(self._alive[: self._used])
        renumber = np.full(self._used, -1, np.int32)
        renumber[keep] = np.arange(len(keep), dtype=np.int32)
        columns: list[npt.NDArray[np.int64] | Int32s] = []
        for kind in (0, 1):
            cells, slots = self._table.pairs(bool(kind))
            extra_cells, extra_slots = array("q"), array("q")
            for cell, got in self._added.items():
                extra_cells.extend([cell] * len(got[kind]))
                extra_slots.extend(got[kind])
            cells = np.concatenate([cells, np.array(extra_cells, np.int64)])
            slots = renumber[np.concatenate([slots, np.array(extra_slots, np.int32)])]
            live = slots >= 0
            columns += [cells[live], slots[live]]
        self._table = _Table.of(*columns)  # type: ignore[arg-type]
        self._ids, self._alive = self._ids[keep], np.ones(len(keep), np.bool_)
        self._params, self._circles = self._params[keep], self._circles[keep]
        self._shapes = {int(renumber[s]): area for s, area in self._shapes.items()}
        self._slot_of = dict(zip(self._ids.tolist(), range(len(keep)), strict=True))
        self._used, self._dead = len(keep), 0
        self._added, self._added_pairs = {}, 0


def _table_of(columns: list[list[Int64s | Int32s]]) -> _Table:
    """The table of inside and edge (cell, slot) chunks, letting go of each copy early."""
    joined: list[Any] = []
    for chunks in columns:
        joined += [np.concatenate(chunks[0::2]), np.concatenate(chunks[1::2])]
        chunks.clear()
    return _Table.of(*joined)


def _circle_columns(areas: Sequence[Area]) -> tuple[Floats, Floats, Floats]:
    """Centre latitudes, longitudes and radii of circles; NaN for other areas."""
    rows = [
        (a.lat, a.lon, a.radius_m) if isinstance(a, CircleArea) else (np.nan,) * 3 for a in areas
    ]
    table = np.array(rows, np.float64).reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


def _params(lat: Floats, lon: Floats, radius: Floats) -> Floats:
    """Each circle's unit vector and cosine of its angular radius; NaN rows for other areas."""
    out = np.empty((len(lat), 4))
    out[:, :3] = unit_vectors(lat, lon)
    out[:, 3] = np.cos(radius / geo.EARTH_RADIUS_M)
    return out
