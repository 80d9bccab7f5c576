"""The in-memory feed index: the newest incidents in a circle or a box, without the database.

Columnar and built in bulk with numpy: every item has a rank, its place in feed order
(occurred_at, id), and each level of a lat/lon grid (`STEPS`, degrees) keeps per cell the sorted
ranks of its items. A query takes the level whose cells are about a quarter of the radius and
merges the cells newest first in one compiled loop (`feedkernel.newest`), with the exact
haversine test of `geo.haversine_m`. Live changes go to a small delta that the loop scans whole
(a changed or removed item's old rank is marked dead); past `_DELTA_MAX` changes the index is
rebuilt from its own arrays, which takes a fraction of a second at a million items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from townsquare import taxonomy
from townsquare.geo import EARTH_RADIUS_M, bbox_is_valid, haversine_m
from townsquare.incidents import feedkernel as kernel
from townsquare.incidents.feedcells import build_columns

__all__ = ["STEPS", "FeedIndex", "IndexItem", "haversine_m"]

STEPS = (1 / 512, 1 / 128, 1 / 32, 1 / 8, 1 / 2, 2.0)
"""Cell sides of the grid levels in degrees, finest first; a query walks one of them."""
_SPAN = 4.0  # a level fits a radius when its cells are at least radius / _SPAN
_BAND = 1e-3  # relative width around the rim where the dot product defers to the haversine
_DELTA_MAX = 1024  # changes kept beside the base (scanned whole by each query)
_ITEM_CACHE = 1 << 17
_M_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0
_NO_VERDICTS = np.empty((0, 3))
_EMPTY = build_columns(
    np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), np.empty(0, np.int16), STEPS
)
_NO_DELTA = (np.empty((0, 5)), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int16))
_Bound = tuple[float, int]
_Filters = tuple[_Bound | None, float | None, float | None, str | None]


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


def _geo_row(item: IndexItem) -> list[float]:
    a, b = math.radians(item.lat), math.radians(item.lon)
    return [item.lat, item.lon, math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)]


def level_of(radius_deg: float) -> int:
    """The grid level for an area this many degrees across / 2, or -1: scan everything."""
    for level, step in enumerate(STEPS):
        if step * _SPAN >= radius_deg:
            return level
    return -1


class FeedIndex:
    """Newest-first lookup of incidents by circle or box over grid cells (see the module doc).

    Not thread-safe: run writes and queries on one thread, or behind one lock.
    """

    scan_below = 64
    """An index of at most this many items is scanned in feed order, without the grid."""

    def __init__(self) -> None:
        self._base = _EMPTY
        self._codes: list[str] = []
        self._code_of: dict[str, int] = {}
        self._masks: dict[str | None, Any] = {}
        self._dead = 0
        self._delta: dict[int, int] = {}  # id -> row of the changes since the build
        self._delta_rows: list[IndexItem] = []
        self._delta_arrays: tuple[Any, Any, Any, Any] = _NO_DELTA  # geo, t, id, category
        self._items: dict[int, IndexItem] = {}  # rank -> item, so hot results are not rebuilt
        self.items_touched = 0
        """Items examined by queries so far (for benchmarks)."""

    @classmethod
    def build(cls, items: Iterable[IndexItem]) -> FeedIndex:
        """An index of `items` built in bulk; a repeated id keeps its last item."""
        seq = items if isinstance(items, list) else list(items)
        n = len(seq)
        index = cls()
        codes = index._code_of
        cats = (codes.setdefault(c, len(codes)) for c in map(attrgetter("category"), seq))
        names = (("id", np.int64), ("lat", "f8"), ("lon", "f8"), ("occurred_at", "f8"))
        ids, lat, lon, t = (np.fromiter(map(attrgetter(a), seq), d, n) for a, d in names)
        category = np.fromiter(cats, np.int16, n)
        index._codes = list(codes)
        index._base = build_columns(ids, lat, lon, t, category, STEPS)
        return index

    def __len__(self) -> int:
        """Number of incidents held."""
        return len(self._base.t) - self._dead + len(self._delta)

    def __contains__(self, incident_id: object) -> bool:
        """True if the incident with this id is held."""
        if not isinstance(incident_id, int):
            return False
        return incident_id in self._delta or self._base_rank(incident_id) >= 0

    def _base_rank(self, incident_id: int) -> int:
        """The live base rank of the id, or -1."""
        base = self._base
        if not -(1 << 63) <= incident_id < 1 << 63:
            return -1
        i = int(np.searchsorted(base.sorted_ids, incident_id))
        if i < len(base.sorted_ids) and base.sorted_ids[i] == incident_id:
            rank = int(base.rank_of[i])
            return rank if base.alive[rank] else -1
        return -1

    def upsert(self, item: IndexItem) -> None:
        """Insert the incident, or replace what the index holds for its id."""
        if not (
            math.isfinite(item.occurred_at) and -90 <= item.lat <= 90 and -180 <= item.lon <= 180
        ):
            raise ValueError(f"incident {item.id}: point or time out of range")
        code = self._code(item.category)
        fields = (_geo_row(item), item.occurred_at, item.id, code)
        row = self._delta.get(item.id)
        if row is None:
            self._kill(item.id)
            row = self._delta[item.id] = len(self._delta_rows)
            self._delta_rows.append(item)
            dgeo, dt, did, dcat = self._delta_arrays
            self._delta_arrays = (
                np.concatenate([dgeo, [fields[0]]]),
                np.append(dt, item.occurred_at),
                np.append(did, np.int64(item.id)),
                np.append(dcat, np.int16(code)),
            )
        else:
            self._delta_rows[row] = item
            for column, value in zip(self._delta_arrays, fields, strict=True):
                column[row] = value
        self._changed()

    def remove(self, incident_id: int) -> None:
        """Forget the incident; no error if it is not held."""
        row = self._delta.pop(incident_id, None)
        if row is not None:
            last = self._delta_rows.pop()
            if row < len(self._delta_rows):  # the last row fills the hole
                self._delta_rows[row], self._delta[last.id] = last, row
                for column in self._delta_arrays:
                    column[row] = column[-1]
            dgeo, dt, did, dcat = self._delta_arrays
            self._delta_arrays = dgeo[:-1], dt[:-1], did[:-1], dcat[:-1]
        elif self._kill(incident_id):
            self._changed()

    def _kill(self, incident_id: int) -> bool:
        rank = self._base_rank(incident_id)
        if rank < 0:
            return False
        self._base.alive[rank] = False
        self._items.pop(rank, None)
        self._dead += 1
        return True

    def _changed(self) -> None:
        if len(self._delta) > _DELTA_MAX or self._dead > max(_DELTA_MAX, len(self._base.t) // 4):
            self._compact()

    def _compact(self) -> None:
        """Rebuild the base from its live items and the delta."""
        base, (dgeo, dt, did, dcat) = self._base, self._delta_arrays
        live = np.flatnonzero(base.alive)
        point = base.point[live]
        self._base = build_columns(
            np.concatenate([base.ids[live], did]),
            np.concatenate([base.geo[point, 0], dgeo[:, 0]]),
            np.concatenate([base.geo[point, 1], dgeo[:, 1]]),
            np.concatenate([base.t[live], dt]),
            np.concatenate([base.cat[live], dcat]),
            STEPS,
        )
        self._dead, self._delta, self._delta_rows = 0, {}, []
        self._delta_arrays = _NO_DELTA
        self._items.clear()

    def _code(self, category: str) -> int:
        code = self._code_of.get(category)
        if code is None:
            code = self._code_of[category] = len(self._codes)
            self._codes.append(category)
            self._masks.clear()
        return code

    def _mask(self, category: str | None) -> Any:
        """Per category code: 1 if it is `category` or lies under it at a dot boundary."""
        mask = self._masks.get(category)
        if mask is None:
            wanted = [category is None or taxonomy.matches(c, category) for c in self._codes]
            mask = self._masks[category] = np.array(wanted or [False], np.bool_)
        return mask

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
        return self._items_of(
            self.query_ranks(
                lat,
                lon,
                radius_m,
                limit,
                before=before,
                since=since,
                until=until,
                category=category,
            )
        )

    def query_ranks(
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
    ) -> Any:
        """What `query` answers, as base ranks (>= 0) and delta rows (-1 - row): an int64 array."""
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and radius_m >= 0):
            raise ValueError(f"point ({lat}, {lon}) or radius {radius_m} out of range")
        q = np.zeros(kernel.Q_SIZE)
        r = radius_m / EARTH_RADIUS_M
        gap = 2.0 * math.sin(min(r, math.pi) / 2.0) ** 2  # 1 - cos(r), precise for small r
        a, b = math.radians(lat), math.radians(lon)
        q[: kernel.Q_BAND + 1] = (
            kernel.CIRCLE, lat, lon, radius_m, 0.0,
            math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a),
            1.0 - gap * (1.0 - _BAND) + 1e-15, 1.0 - gap * (1.0 + _BAND) - 1e-15,
            radius_m * 1e-12 + 1e-5,  # ULPs of haversine_m; asin near 1 adds under 1e-5 m
        )  # fmt: skip
        return self._run(q, radius_m / _M_PER_DEG, limit, (before, since, until, category))

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
        return self._items_of(
            self.query_bbox_ranks(
                west, south, east, north, limit, before=before, since=since, until=until,
                category=category,
            )
        )  # fmt: skip

    def query_bbox_ranks(
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
    ) -> Any:
        """What `query_bbox` answers, as ranks (see `query_ranks`)."""
        if not bbox_is_valid(west, south, east, north):
            raise ValueError(f"box ({west}, {south}, {east}, {north}) unordered or out of range")
        q = np.zeros(kernel.Q_SIZE)
        q[: kernel.Q_D + 1] = kernel.BOX, west, south, east, north
        across = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)))
        filters = (before, since, until, category)
        return self._run(q, across / 2.0, limit, filters)

    def ids_of(self, found: Any) -> list[int]:
        """Incident ids of ranks a query answered, in order: what a feed page needs, with no
        item made."""
        delta = self._delta_rows
        ranks: list[int] = found.tolist()
        base_ids: list[int] = self._base.ids[found[found >= 0]].tolist()
        if len(base_ids) == len(ranks):
            return base_ids
        at = iter(base_ids)
        return [delta[-1 - r].id if r < 0 else next(at) for r in ranks]

    def _run(self, q: Any, radius_deg: float, limit: int, filters: _Filters) -> Any:
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit {limit!r} must be an int >= 0")
        before, since, until, category = filters
        upper = min(
            [b for b in (before, None if until is None else (until, -(1 << 63))) if b is not None],
            default=(math.inf, 0),
        )
        base = self._base
        level = level_of(radius_deg) if len(base.t) > self.scan_below else -1
        q[kernel.Q_SINCE] = -math.inf if since is None else since
        q[kernel.Q_UPPER_T], q[kernel.Q_WHOLE] = upper[0], float(level < 0)
        q[kernel.Q_STEP] = STEPS[max(level, 0)]
        wanted, out = self._mask(category), np.empty(limit, np.int64)
        verdicts = _NO_VERDICTS
        args = (base.levels[max(level, 0)], base.t, base.ids, base.point, base.cat)
        while True:
            found = kernel.newest(
                *args,
                base.alive,
                base.geo,
                self._delta_arrays,
                q,
                upper[1],
                wanted,
                verdicts,
                base.heap,
                out,
            )
            if found != kernel.AMBIGUOUS:
                break
            plat, plon = q[kernel.Q_PROBE_LAT], q[kernel.Q_PROBE_LON]
            inside = haversine_m(q[kernel.Q_A], q[kernel.Q_B], plat, plon) <= q[kernel.Q_C]
            verdicts = np.concatenate([verdicts, [[plat, plon, float(inside)]]])
        self.items_touched += int(q[kernel.Q_TOUCHED])
        return out[:found]

    def _items_of(self, found: Any) -> list[IndexItem]:
        cache, delta = self._items, self._delta_rows
        ranks = found.tolist()
        out: list[IndexItem | None] = [delta[-1 - r] if r < 0 else cache.get(r) for r in ranks]
        missing = [i for i, item in enumerate(out) if item is None]
        if missing:
            if len(cache) + len(missing) > _ITEM_CACHE:
                cache.clear()  # cheaper than evicting one by one; hot items come back
            base = self._base
            at = found[missing]
            points = base.point[at]
            codes = self._codes
            fields = zip(
                base.ids[at].tolist(),
                base.geo[points, 0].tolist(),
                base.geo[points, 1].tolist(),
                base.t[at].tolist(),
                base.cat[at].tolist(),
                strict=True,
            )
            new, (set_id, set_lat, set_lon, set_t, set_category) = object.__new__, _SETTERS
            for i, (item_id, lat, lon, t, c) in zip(missing, fields, strict=True):
                # slot setters: a third of the cost of the frozen dataclass __init__
                item = out[i] = cache[ranks[i]] = new(IndexItem)
                set_id(item, item_id)
                set_lat(item, lat)
                set_lon(item, lon)
                set_t(item, t)
                set_category(item, codes[c])
        return out  # type: ignore[return-value]
