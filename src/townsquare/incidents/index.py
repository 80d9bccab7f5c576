"""The in-memory feed index: the newest incidents in a circle or a box, without the database.

Items live in flat arrays indexed by a slot, slots in feed order. At each H3 resolution of
`LEVELS` the cell holding an item's point maps to its slots, ascending, so newest last. A query
picks the level whose cells are a few times smaller than the radius, takes the cells that can
touch the circle, heap-merges them newest first with an exact test, and stops at `limit`.

Why no cell is missed. Every point of a cell lies within `reach` of its centre: the largest
centre-to-vertex distance, padded (cells are small convex spherical polygons, so the farthest
point from the centre is a vertex). So a cell holds a point within r of p only if
d(p, centre) <= r + reach. Around O, the cell one resolution coarser that holds p, cells are
walked ring by ring (H3 grid distance) from O's centre child, keeping those with
d(O, c) - reach(c) - reach(O) <= r; the walk stops at the first ring that keeps none. The union
of the discs around the points of O is connected and every path from ring k-1 outward enters
ring k, so no cell beyond that ring touches any of them. Each kept cell is then judged by its
`spread`, the farthest of its items from its centre (<= reach; 0 for a coarsened point), which
also says whether the whole cell is inside. Boxes: the same walk, caps tested against the box.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from operator import call, eq

import h3
from h3.api import basic_int as h3i

from townsquare import taxonomy
from townsquare.geo import EARTH_RADIUS_M, bbox_is_valid, haversine_m

__all__ = ["LEVELS", "FeedIndex", "IndexItem", "haversine_m"]

LEVELS = (9, 8, 7, 6, 5)
"""H3 resolutions indexed, finest first; a query walks exactly one of them."""
_SPAN = 6.0  # measured: a level is fastest up to ~6 edge lengths of radius, then the next one
_REACH_M = tuple(_SPAN * h3.average_hexagon_edge_length(res, "m") for res in LEVELS)
_MARGIN = 2e-7  # radians (~1.3 m): covers acos rounding near 0 when classifying cells
_BAND = 1e-3  # relative width around the radius inside which the exact haversine decides
_ITEM_CACHE = 1 << 16
_NO_ID = -(1 << 64)  # below every int64 id, so `until` becomes an (occurred_at, id) bound
_TURNS = (-360.0, 0.0, 360.0)  # a cap may pass the antimeridian

_Vec = tuple[float, float, float]
_Cell = tuple["array[int]", float, float, float, float, float, float]  # slots x y z spread lat lon
_Bound = tuple[float, int]


@dataclass(frozen=True, slots=True)
class IndexItem:
    """What the feed index keeps of an incident: its public point, time and category."""

    id: int
    lat: float
    lon: float
    occurred_at: float
    category: str


def _unit(lat: float, lon: float) -> _Vec:
    a, b = math.radians(lat), math.radians(lon)
    return math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)


def _angle(a: _Vec, b: _Vec) -> float:
    # from the chord rather than acos of the dot product: precise for tiny angles too
    return 2.0 * math.asin(min(1.0, math.dist(a, b) / 2.0))


@lru_cache(maxsize=1 << 15)
def _geometry(cell: int) -> tuple[float, float, float, float, float, float]:
    """x, y, z of the cell centre, its reach in radians, and the centre's lat, lon."""
    lat, lon = h3i.cell_to_latlng(cell)
    x, y, z = _unit(lat, lon)
    rad, cos, sin = math.radians, math.cos, math.sin
    low = min(  # the farthest vertex has the smallest dot product with the centre
        cos(rad(a)) * (x * cos(rad(b)) + y * sin(rad(b))) + z * sin(rad(a))
        for a, b in h3i.cell_to_boundary(cell)
    )
    # acos loses ~1e-8 rad near 1: the absolute pad covers it
    return x, y, z, math.acos(max(-1.0, min(1.0, low))) * 1.001 + 1e-7, lat, lon


def _walk(start: int, keep: Callable[[int], bool]) -> list[int]:
    found: list[int] = []
    for k in range(1 << 30):
        ring = [c for c in h3i.grid_ring(start, k) if keep(c)]
        if not ring:
            break
        found += ring
    return found


@lru_cache(maxsize=1 << 13)
def _table(level: int, origin: int) -> tuple[_Vec, array[float], array[int]]:
    """Cells that may touch a circle of the level's reach around a point of `origin`, sorted by
    d(origin, c) - reach(c): a circle of radius r around p only touches keys <= r + d(p, origin)."""
    *centre, slack, _, _ = _geometry(origin)
    o, reach = (centre[0], centre[1], centre[2]), _REACH_M[level] / EARTH_RADIUS_M

    def key(c: int) -> float:
        x, y, z, r, _, _ = _geometry(c)
        return _angle(o, (x, y, z)) - r

    start = h3i.cell_to_center_child(origin, LEVELS[level])
    near = sorted((key(c), c) for c in _walk(start, lambda c: key(c) - slack <= reach))
    return o, array("d", [k for k, _ in near]), array("q", [c for _, c in near])


def _cap_box(cell: _Cell) -> tuple[float, float, float, float]:
    """South, north, west, east of the cap holding a cell's items (west, east may pass ±180)."""
    spread, lat, lon = cell[4], cell[5], cell[6]
    deg = math.degrees(spread) + 1e-9
    if abs(lat) + deg >= 90.0:
        return lat - deg, lat + deg, -math.inf, math.inf
    half = math.degrees(math.asin(min(1.0, math.sin(spread) / math.cos(math.radians(lat)))))
    return lat - deg, lat + deg, lon - half - 1e-9, lon + half + 1e-9


def _level(radius_m: float) -> int:
    return min(bisect_left(_REACH_M, radius_m), len(LEVELS) - 1)


def _valid(lat: array[float], lon: array[float], t: array[float]) -> bool:
    """True if every value is finite and every point lies in the WGS 84 range."""
    if not lat or not all(map(math.isfinite, chain(lat, lon, t))):
        return not lat
    return min(lat) >= -90.0 and max(lat) <= 90.0 and min(lon) >= -180.0 and max(lon) <= 180.0


class FeedIndex:
    """Newest-first lookup of incidents by circle or box over H3 cells (see the module doc)."""

    scan_below = 64
    """A level with at most this many non-empty cells is scanned whole instead of walked."""

    def __init__(self) -> None:
        self._lat, self._lon, self._t = array("d"), array("d"), array("d")
        self._x, self._y, self._z = array("d"), array("d"), array("d")  # per point
        self._point = array("i")  # slot -> its point's x, y, z (points are shared once coarsened)
        self._id, self._cat = array("q"), array("H")
        self._free: list[int] = []
        self._ids, self._slot_of = array("q"), array("i")  # sorted ids; slot -1 once removed
        self._dead = self._live = 0
        self._codes: list[str] = []
        self._code_of: dict[str, int] = {}
        self._masks: dict[str, bytes] = {}
        self._cells: list[dict[int, _Cell]] = [{} for _ in LEVELS]
        self._items: dict[int, IndexItem] = {}  # slot -> item, so hot results are not rebuilt
        self.items_touched = 0
        """Items examined by queries so far (for benchmarks)."""

    @classmethod
    def build(cls, items: Iterable[IndexItem]) -> FeedIndex:
        """An index of `items` built in bulk; a repeated id keeps its last item."""
        seq = list(items)
        n = len(seq)
        ids = array("q", [it.id for it in seq])
        by_id = sorted(range(n), key=ids.__getitem__)
        sorted_ids = array("q", map(ids.__getitem__, by_id))
        if any(map(eq, sorted_ids, islice(sorted_ids, 1, None))):
            return cls.build(list({it.id: it for it in seq}.values()))
        times = array("d", [it.occurred_at for it in seq])
        feed = sorted(by_id, key=times.__getitem__)  # stable: (time, id) order, the slot order
        index = cls()
        index._ids, index._live = sorted_ids, n
        index._id = array("q", map(ids.__getitem__, feed))
        index._t = array("d", map(times.__getitem__, feed))
        index._slot_of = array("i", sorted(range(n), key=index._id.__getitem__))
        seq = list(map(seq.__getitem__, feed))
        index._lat = array("d", [it.lat for it in seq])
        index._lon = array("d", [it.lon for it in seq])
        if not _valid(index._lat, index._lon, index._t):
            raise ValueError("an item's point or time is out of range")
        categories = [it.category for it in seq]
        for code in sorted(dict.fromkeys(categories)):
            index._code(code)
        index._cat = array("H", map(index._code_of.__getitem__, categories))
        first: dict[tuple[float, float], int] = {}  # once per distinct point, not per item
        owner = list(map(first.setdefault, zip(index._lat, index._lon, strict=True), range(n)))
        dense = {slot: i for i, slot in enumerate(first.values())}
        index._point = array("i", map(dense.__getitem__, owner))
        vectors = [_unit(lat, lon) for lat, lon in first]
        index._x, index._y, index._z = (array("d", [v[i] for v in vectors]) for i in range(3))
        groups: list[list[int]] = [[] for _ in vectors]  # slots of each point, ascending
        deque(map(call, map([g.append for g in groups].__getitem__, index._point), range(n)), 0)
        for level, res in enumerate(LEVELS):
            parts: dict[int, list[int]] = {}
            for point, (lat, lon) in enumerate(first):
                parts.setdefault(h3i.latlng_to_cell(lat, lon, res), []).append(point)
            cells = index._cells[level]
            for c, points in parts.items():
                x, y, z, _, clat, clon = _geometry(c)
                spread = max(_angle((x, y, z), vectors[q]) for q in points)
                slots = chain.from_iterable(map(groups.__getitem__, points))
                cells[c] = (array("i", sorted(slots)), x, y, z, spread, clat, clon)
        return index

    def __len__(self) -> int:
        """Number of incidents held."""
        return self._live

    def __contains__(self, incident_id: object) -> bool:
        """True if the incident with this id is held."""
        return isinstance(incident_id, int) and self._find(incident_id)[1] >= 0

    def _find(self, incident_id: int) -> tuple[int, int]:
        """Position of the id among the sorted ids, and its slot (-1 if absent or removed)."""
        i = bisect_left(self._ids, incident_id)
        if i < len(self._ids) and self._ids[i] == incident_id:
            return i, self._slot_of[i]
        return i, -1

    def upsert(self, item: IndexItem) -> None:
        """Insert the incident, or replace what the index holds for its id."""
        if not (
            math.isfinite(item.occurred_at) and -90 <= item.lat <= 90 and -180 <= item.lon <= 180
        ):
            raise ValueError(f"incident {item.id}: point or time out of range")
        i, slot = self._find(item.id)
        if slot >= 0:
            self._unlink(slot)
        else:
            slot = self._free.pop() if self._free else self._grow()
            if i < len(self._ids) and self._ids[i] == item.id:
                self._slot_of[i] = slot
                self._dead -= 1
            else:
                self._ids.insert(i, item.id)
                self._slot_of.insert(i, slot)
            self._live += 1
        self._lat[slot], self._lon[slot], self._t[slot] = item.lat, item.lon, item.occurred_at
        self._point[slot] = len(self._x)  # a new point each time: rebuilds share them again
        for column, value in zip(
            (self._x, self._y, self._z), _unit(item.lat, item.lon), strict=True
        ):
            column.append(value)
        self._id[slot], self._cat[slot] = item.id, self._code(item.category)
        self._items[slot] = item
        point = _unit(item.lat, item.lon)
        for cells, c in zip(self._cells, self._cells_of(slot), strict=True):
            slots, x, y, z, spread, clat, clon = cells.get(c) or (array("i"), *_geometry(c))
            spread = max(spread if slots else 0.0, _angle((x, y, z), point))
            slots.insert(bisect_right(slots, self._key(slot), key=self._key), slot)
            cells[c] = (slots, x, y, z, spread, clat, clon)  # spread never shrinks: still a bound

    def remove(self, incident_id: int) -> None:
        """Forget the incident; no error if it is not held."""
        i, slot = self._find(incident_id)
        if slot < 0:
            return
        self._unlink(slot)
        self._items.pop(slot, None)
        self._free.append(slot)
        self._slot_of[i] = -1
        self._dead, self._live = self._dead + 1, self._live - 1
        if self._dead > 1024 and self._dead > self._live:
            keep = [j for j, s in enumerate(self._slot_of) if s >= 0]
            self._ids = array("q", map(self._ids.__getitem__, keep))
            self._slot_of = array("i", map(self._slot_of.__getitem__, keep))
            self._dead = 0

    def _grow(self) -> int:
        for column in (self._lat, self._lon, self._t):
            column.append(0.0)
        for counter in (self._id, self._cat, self._point):
            counter.append(0)
        return len(self._t) - 1

    def _code(self, category: str) -> int:
        code = self._code_of.get(category)
        if code is None:
            code = self._code_of[category] = len(self._codes)
            self._codes.append(category)
            self._masks.clear()
        return code

    def _key(self, slot: int) -> _Bound:
        return self._t[slot], self._id[slot]

    def _cells_of(self, slot: int) -> list[int]:
        return [h3i.latlng_to_cell(self._lat[slot], self._lon[slot], res) for res in LEVELS]

    def _unlink(self, slot: int) -> None:
        for cells, c in zip(self._cells, self._cells_of(slot), strict=True):
            slots = cells[c][0]
            del slots[bisect_left(slots, self._key(slot), key=self._key)]
            if not slots:
                del cells[c]

    def query(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
        *,
        before: _Bound | None = None,
        since: float | None = None,
        until: float | None = None,
        category: str | None = None,
    ) -> list[IndexItem]:
        """Items within `radius_m` of the point, newest first (occurred_at, id), at most `limit`."""
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and radius_m >= 0):
            raise ValueError(f"point ({lat}, {lon}) or radius {radius_m} out of range")
        level = _level(radius_m)
        r = radius_m / EARTH_RADIUS_M
        rin, rout, acos = r - _MARGIN, r + _MARGIN, math.acos
        px, py, pz = p = _unit(lat, lon)

        def keep(c: int) -> bool:
            x, y, z, reach, _, _ = _geometry(c)
            return _angle(p, (x, y, z)) - reach <= rout

        sources: list[tuple[array[int], bool]] = []
        for slots, x, y, z, spread, _, _ in self._near(level, lat, lon, rout, keep):
            dot = px * x + py * y + pz * z
            d = acos(dot) if -1.0 < dot < 1.0 else (0.0 if dot > 0.0 else math.pi)
            if d - spread <= rout:
                sources.append((slots, d + spread <= rin))
        gap = 2.0 * math.sin(min(r, math.pi) / 2.0) ** 2  # 1 - cos(r), precise for small r
        sure, maybe = 1.0 - gap * (1.0 - _BAND) + 1e-15, 1.0 - gap * (1.0 + _BAND) - 1e-15
        circle = (lat, lon, radius_m, px, py, pz, sure, maybe)
        return self._merge(sources, limit, (before, since, until, category), circle, None)

    def query_bbox(
        self,
        west: float,
        south: float,
        east: float,
        north: float,
        limit: int,
        *,
        before: _Bound | None = None,
        since: float | None = None,
        until: float | None = None,
        category: str | None = None,
    ) -> list[IndexItem]:
        """Items inside the box (edges included), newest first, at most `limit`; west < east."""
        if not bbox_is_valid(west, south, east, north):
            raise ValueError(f"box ({west}, {south}, {east}, {north}) unordered or out of range")
        lat, lon = (south + north) / 2.0, (west + east) / 2.0
        centre = _unit(lat, lon)
        # boxes well under a hemisphere are farthest from their centre at a corner
        r = max(_angle(centre, _unit(a, b)) for a in (south, north) for b in (west, east)) + 1e-9

        def touches(cell: _Cell) -> bool:
            s, n, w, e = _cap_box(cell)
            return (
                s <= north and n >= south and any(w + k <= east and e + k >= west for k in _TURNS)
            )

        def keep(c: int) -> bool:
            return touches((array("i"), *_geometry(c)))

        sources: list[tuple[array[int], bool]] = []
        for cell in self._near(_level(r * EARTH_RADIUS_M), lat, lon, r, keep):
            if touches(cell):
                s, n, w, e = _cap_box(cell)
                sources.append((cell[0], south <= s and n <= north and west <= w and e <= east))
        box = (west, south, east, north)
        return self._merge(sources, limit, (before, since, until, category), None, box)

    def _near(
        self, level: int, lat: float, lon: float, r: float, keep: Callable[[int], bool]
    ) -> list[_Cell]:
        """Non-empty cells of the level that may touch the circle of radius `r` (radians)."""
        cells = self._cells[level]
        if len(cells) > self.scan_below and r * EARTH_RADIUS_M <= _REACH_M[level]:
            o, keys, near = _table(level, h3i.latlng_to_cell(lat, lon, LEVELS[level] - 1))
            found = map(cells.get, near[: bisect_right(keys, r + _angle(_unit(lat, lon), o))])
            return [cell for cell in found if cell is not None]
        edge = _REACH_M[level] / _SPAN
        if len(cells) <= max(self.scan_below, 3.0 * (r * EARTH_RADIUS_M / edge + 2.0) ** 2):
            return list(cells.values())  # fewer than a walk would visit
        walked = map(cells.get, _walk(h3i.latlng_to_cell(lat, lon, LEVELS[level]), keep))
        return [cell for cell in walked if cell is not None]

    def _merge(
        self,
        sources: list[tuple[array[int], bool]],
        limit: int,
        filters: tuple[_Bound | None, float | None, float | None, str | None],
        circle: tuple[float, float, float, float, float, float, float, float] | None,
        box: tuple[float, float, float, float] | None,
    ) -> list[IndexItem]:
        """Heap-merge the cells newest first, keeping what passes the exact test and filters."""
        if limit < 0:
            raise ValueError(f"limit {limit} must be >= 0")
        before, since, until, category = filters
        bounds = [b for b in (before, None if until is None else (until, _NO_ID)) if b is not None]
        upper = min(bounds) if bounds else None
        mask = None if category is None else self._mask(category)
        if limit == 0 or (mask is not None and not any(mask)):
            return []
        times, ids, cats = self._t, self._id, self._cat
        heap: list[tuple[float, int, int, int, int]] = []  # -time, -id, slot, position, source
        arrays: list[array[int]] = []
        inside: list[bool] = []
        for slots, certain in sources:
            at = (len(slots) if upper is None else self._cut(slots, upper)) - 1
            if at >= 0:
                s = slots[at]
                heap.append((-times[s], -ids[s], s, at, len(arrays)))
                arrays.append(slots)
                inside.append(certain)
        heapq.heapify(heap)
        stop = math.inf if since is None else -since
        is_circle = circle is not None
        qlat, qlon, radius_m, px, py, pz, sure, maybe = circle or (0.0,) * 8
        west, south, east, north = box or (0.0,) * 4
        xs, ys, zs, lats, lons, points = (
            self._x,
            self._y,
            self._z,
            self._lat,
            self._lon,
            self._point,
        )
        replace, pop = heapq.heapreplace, heapq.heappop
        found: list[int] = []
        add, need, rejected = found.append, limit, 0
        while heap:
            negative_t, _, s, at, j = heap[0]
            if negative_t > stop:
                break
            if (mask is None or mask[cats[s]]) and (
                inside[j]
                or (
                    (dot := px * xs[(q := points[s])] + py * ys[q] + pz * zs[q]) >= sure
                    or (dot >= maybe and haversine_m(qlat, qlon, lats[s], lons[s]) <= radius_m)
                    if is_circle
                    else south <= lats[s] <= north and west <= lons[s] <= east
                )
            ):
                add(s)
                need -= 1
                if not need:
                    break
            else:
                rejected += 1
            if at:
                s = arrays[j][at - 1]
                replace(heap, (-times[s], -ids[s], s, at - 1, j))
            else:
                pop(heap)
        self.items_touched += len(found) + rejected
        return self._materialize(found)

    def _cut(self, slots: array[int], upper: _Bound) -> int:
        """How many of the cell's items sort strictly before `upper`."""
        times, ids = self._t, self._id
        bound_t, bound_id = upper
        hi, step = len(slots), 1
        while hi and times[slots[hi - 1]] >= bound_t:  # gallop: cursors sit near the newest end
            lo = max(0, hi - step)
            if times[slots[lo]] < bound_t:
                hi = bisect_left(slots, bound_t, lo, hi, key=times.__getitem__)
                break
            hi, step = lo, step * 2
        while hi < len(slots) and times[slots[hi]] == bound_t and ids[slots[hi]] < bound_id:
            hi += 1
        return hi

    def _mask(self, category: str) -> bytes:
        """Per category code: 1 if it is `category` or lies under it at a dot boundary."""
        mask = self._masks.get(category)
        if mask is None:
            mask = self._masks[category] = bytes(taxonomy.matches(c, category) for c in self._codes)
        return mask

    def _materialize(self, slots: list[int]) -> list[IndexItem]:
        cache = self._items
        out: list[IndexItem] = []
        for s in slots:
            item = cache.get(s)
            if item is None:
                if len(cache) >= _ITEM_CACHE:
                    cache.clear()  # cheaper than evicting one by one; hot items come back
                code = self._codes[self._cat[s]]
                item = cache[s] = IndexItem(
                    self._id[s], self._lat[s], self._lon[s], self._t[s], code
                )
            out.append(item)
        return out
