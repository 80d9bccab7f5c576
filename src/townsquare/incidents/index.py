"""The in-memory feed index: the newest incidents in a circle or a box, without the database.

Items live in flat arrays indexed by a slot. At each H3 resolution of `LEVELS` the cell holding
an item's point maps to its items' slots sorted by (occurred_at, id), newest last. A query
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
also says whether the whole cell is inside. A box uses the cells of its circumscribed circle
and tests their caps against the box.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, count, islice
from operator import attrgetter, eq, lt

import h3
from h3.api import basic_int as h3i

from townsquare import taxonomy
from townsquare.geo import EARTH_RADIUS_M, bbox_is_valid, haversine_m

__all__ = ["LEVELS", "FeedIndex", "IndexItem", "haversine_m"]

LEVELS = (9, 8, 7, 6, 5)
"""H3 resolutions indexed, finest first; a query walks exactly one of them."""
_SPAN = 4.0  # measured: past ~4 edge lengths of radius the next coarser level is faster
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


_SETTERS = tuple(
    IndexItem.__dict__[f].__set__ for f in ("id", "lat", "lon", "occurred_at", "category")
)


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


@lru_cache(maxsize=1 << 13)
def _table(level: int, origin: int) -> tuple[_Vec, array[float], array[int]]:
    """Cells that may touch a circle of the level's reach around any point of `origin`."""
    # sorted by d(origin, c) - reach(c): a circle of radius r around p touches keys <= r + d(p, o)
    *centre, slack, _, _ = _geometry(origin)
    o, reach = (centre[0], centre[1], centre[2]), _REACH_M[level] / EARTH_RADIUS_M

    def key(c: int) -> float:
        x, y, z, r, _, _ = _geometry(c)
        return _angle(o, (x, y, z)) - r

    start, near = h3i.cell_to_center_child(origin, LEVELS[level]), []
    for k in count():  # ring by ring until a ring keeps nothing (see the module doc)
        ring = [
            (d, c) for d, c in ((key(c), c) for c in h3i.grid_ring(start, k)) if d - slack <= reach
        ]
        if not ring:
            break
        near += ring
    near.sort()
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
    """Newest-first lookup of incidents by circle or box over H3 cells (see the module doc).

    Not thread-safe: run writes and queries on one thread, or behind one lock.
    """

    scan_below = 64
    """A level with at most this many non-empty cells is scanned whole, without cell tables."""

    def __init__(self) -> None:
        # per slot, in feed order at build; coarsened points are shared, so stored once each
        self._t, self._id, self._cat, self._point = array("d"), array("q"), array("H"), array("i")
        self._lat, self._lon = array("d"), array("d")  # per point, with its unit vector:
        self._x, self._y, self._z = array("d"), array("d"), array("d")
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
        by_id: Sequence[int] = range(n)  # stores hand rows out in id order: skip the sort then
        if not all(map(lt, ids, islice(ids, 1, None))):
            by_id = sorted(by_id, key=ids.__getitem__)
            if any(map(eq, map(ids.__getitem__, by_id), map(ids.__getitem__, by_id[1:]))):
                return cls.build(list({it.id: it for it in seq}.values()))
        times = array("d", [it.occurred_at for it in seq])
        feed = sorted(by_id, key=times.__getitem__)  # stable: (time, id) order, the slot order
        slot_of = array("i", bytes(4 * n))
        deque(map(slot_of.__setitem__, feed, range(n)), 0)
        index = cls()
        index._ids = array("q", map(ids.__getitem__, by_id))
        index._slot_of = array("i", map(slot_of.__getitem__, by_id))
        index._id = array("q", map(ids.__getitem__, feed))
        index._t = array("d", map(times.__getitem__, feed))
        seq = list(map(seq.__getitem__, feed))
        codes: dict[str, int] = {}  # numbered in order of first sight
        index._cat = array("H", [codes.setdefault(it.category, len(codes)) for it in seq])
        index._codes, index._code_of = list(codes), codes
        points: dict[tuple[float, float], int] = {}
        keys = map(attrgetter("lat", "lon"), seq)
        index._point = array("i", [points.setdefault(k, len(points)) for k in keys])
        index._lat, index._lon = (array("d", [p[i] for p in points]) for i in range(2))
        if not _valid(index._lat, index._lon, index._t):
            raise ValueError("an item's point or time is out of range")
        vectors = [_unit(lat, lon) for lat, lon in points]
        index._x, index._y, index._z = (array("d", [v[i] for v in vectors]) for i in range(3))
        groups: list[list[int]] = [[] for _ in vectors]  # slots of each point, ascending
        for slot, point in enumerate(index._point):
            groups[point].append(slot)
        for level, res in enumerate(LEVELS):
            parts: dict[int, list[int]] = {}
            for point, (lat, lon) in enumerate(points):
                parts.setdefault(h3i.latlng_to_cell(lat, lon, res), []).append(point)
            cells = index._cells[level]
            for c, members in parts.items():
                if len(members) == 1:  # always so at res 9 once points are coarsened
                    clat, clon = h3i.cell_to_latlng(c)
                    (x, y, z), reach, slots = _unit(clat, clon), math.pi, groups[members[0]]
                else:
                    x, y, z, reach, clat, clon = _geometry(c)
                    slots = sorted(chain.from_iterable(map(groups.__getitem__, members)))
                # the farthest item from the centre; past a few points, the cell's reach bounds
                # it (items lie in their cell) without work per point
                far = (_angle((x, y, z), vectors[q]) for q in members)
                spread = reach if len(members) > 64 else max(far)
                cells[c] = (array("i", slots), x, y, z, spread, clat, clon)
        index._live = n
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
        self._t[slot], self._id[slot] = item.occurred_at, item.id
        self._cat[slot] = self._code(item.category)
        point = _unit(item.lat, item.lon)
        self._point[slot] = len(self._x)  # a new point each time; a rebuild shares them again
        columns = (self._lat, self._lon, self._x, self._y, self._z)
        for column, value in zip(columns, (item.lat, item.lon, *point), strict=True):
            column.append(value)
        self._items[slot] = item
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
        self._t.append(0.0)
        for column in (self._id, self._cat, self._point):
            column.append(0)
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
        point = self._point[slot]
        return [h3i.latlng_to_cell(self._lat[point], self._lon[point], res) for res in LEVELS]

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
        sources: list[tuple[array[int], bool]] = []
        for slots, x, y, z, spread, _, _ in self._near(level, lat, lon, rout, p):
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

        sources: list[tuple[array[int], bool]] = []
        for cell in self._near(_level(r * EARTH_RADIUS_M), lat, lon, r, centre):
            if touches(cell):
                s, n, w, e = _cap_box(cell)
                sources.append((cell[0], south <= s and n <= north and west <= w and e <= east))
        box = (west, south, east, north)
        return self._merge(sources, limit, (before, since, until, category), None, box)

    def _near(self, level: int, lat: float, lon: float, r: float, p: _Vec) -> Iterable[_Cell]:
        """Non-empty cells of the level that may touch the circle of radius `r` (radians)."""
        cells = self._cells[level]
        if len(cells) <= self.scan_below or r * EARTH_RADIUS_M > _REACH_M[level]:
            return cells.values()  # few cells, or a radius past every level: test them all
        o, keys, near = _table(level, h3i.latlng_to_cell(lat, lon, LEVELS[level] - 1))
        found = map(cells.get, near[: bisect_right(keys, r + _angle(p, o))])
        return [cell for cell in found if cell is not None]

    def _merge(
        self,
        sources: list[tuple[array[int], bool]],
        limit: int,
        filters: tuple[_Bound | None, float | None, float | None, str | None],
        circle: tuple[float, float, float, float, float, float, float, float] | None,
        box: tuple[float, float, float, float] | None,
    ) -> list[IndexItem]:
        """Heap-merge the cells newest first, keeping what passes the exact test and filters."""
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit {limit!r} must be an int >= 0")
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
        xs, ys, zs, points = self._x, self._y, self._z, self._point
        lats, lons = self._lat, self._lon
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
                    or (dot >= maybe and haversine_m(qlat, qlon, lats[q], lons[q]) <= radius_m)
                    if is_circle
                    else south <= lats[(q := points[s])] <= north and west <= lons[q] <= east
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
        cache, new = self._items, object.__new__
        set_id, set_lat, set_lon, set_t, set_category = _SETTERS
        out: list[IndexItem] = []
        for s in slots:
            item = cache.get(s)
            if item is None:
                if len(cache) >= _ITEM_CACHE:
                    cache.clear()  # cheaper than evicting one by one; hot items come back
                # slot setters: a third of the cost of the frozen dataclass __init__
                item = cache[s] = new(IndexItem)
                p = self._point[s]
                set_id(item, self._id[s])
                set_lat(item, self._lat[p])
                set_lon(item, self._lon[p])
                set_t(item, self._t[s])
                set_category(item, self._codes[self._cat[s]])
            out.append(item)
        return out
