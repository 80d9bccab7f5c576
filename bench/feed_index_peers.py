"""Peers and the brute-force check of `bench/feed_index.py`.

`NumpyGrid` is the plain columnar way: one grid level, the candidate cells' items gathered with
numpy, filtered by a vectorised haversine and sorted. `load_before` loads an earlier
`incidents/index.py` (the H3 index) from a source tree under its own module name. `brute`
answers a query by looking at every item.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from townsquare import geo, taxonomy
from townsquare.incidents.index import IndexItem

M_PER_DEG = math.pi * geo.EARTH_RADIUS_M / 180.0


class Columns:
    """The items as numpy columns in feed order (occurred_at, id), for the peer and the check."""

    def __init__(self, items: Sequence[IndexItem]) -> None:
        n = len(items)
        codes: dict[str, int] = {}
        cat = np.fromiter((codes.setdefault(it.category, len(codes)) for it in items), np.int16, n)
        ids = np.fromiter((it.id for it in items), np.int64, n)
        t = np.fromiter((it.occurred_at for it in items), np.float64, n)
        feed = np.lexsort((ids, t))
        self.ids, self.t, self.cat = ids[feed], t[feed], cat[feed]
        self.lat = np.fromiter((it.lat for it in items), np.float64, n)[feed]
        self.lon = np.fromiter((it.lon for it in items), np.float64, n)[feed]
        self.codes = list(codes)

    def mask(self, category: str | None) -> Any:
        """Per category code: wanted or not."""
        return np.array([category is None or taxonomy.matches(c, category) for c in self.codes])

    def bound(self, before: tuple[float, int] | None) -> int:
        """How many items sort before `before` (all if None)."""
        if before is None:
            return len(self.t)
        lo = int(np.searchsorted(self.t, before[0], "left"))
        hi = int(np.searchsorted(self.t, before[0], "right"))
        return lo + int(np.searchsorted(self.ids[lo:hi], before[1], "left"))


def distances_m(lat: float, lon: float, lats: Any, lons: Any) -> Any:
    """Haversine distances (vectorised, may differ from geo.haversine_m in the last ULPs)."""
    p1, p2 = math.radians(lat), np.radians(lats)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon) / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class NumpyGrid:
    """Peer: a 1/128° grid; a query gathers the cells' items and filters and sorts them."""

    step = 1 / 128

    def __init__(self, columns: Columns) -> None:
        self.c = columns
        n = len(columns.t)
        self.ncols = math.ceil(360 / self.step)
        rows = np.floor((columns.lat + 90) / self.step).astype(np.int64)
        cols = np.floor((columns.lon + 180) / self.step).astype(np.int64)
        combined = (rows * self.ncols + cols) * n + np.arange(n)
        combined.sort()
        keys, self.ranks = np.divmod(combined, n)
        first = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1])
        self.keys, self.starts = keys[first], np.concatenate([first, [n]])

    def query(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        limit: int,
        before: tuple[float, int] | None = None,
        category: str | None = None,
    ) -> list[int]:
        """Ids of the newest `limit` items within the radius (a metro-sized peer: no wrap)."""
        c, half = self.c, radius_m / M_PER_DEG
        wide = half / max(1e-6, math.cos(math.radians(min(89.9, abs(lat) + half))))
        r0, r1 = (math.floor((lat + s * half + 90) / self.step) for s in (-1, 1))
        c0, c1 = (math.floor((lon + s * wide + 180) / self.step) for s in (-1, 1))
        rows = np.arange(r0, r1 + 1) * self.ncols
        lo = self.starts[np.searchsorted(self.keys, rows + c0, "left")]
        hi = self.starts[np.searchsorted(self.keys, rows + c1, "right")]
        got = np.concatenate(
            [self.ranks[a:b] for a, b in zip(lo, hi, strict=True) if b > a] or [[]]
        )
        got = got.astype(np.int64)
        if before is not None:
            got = got[got < c.bound(before)]
        if category is not None:
            got = got[c.mask(category)[c.cat[got]]]
        got = got[distances_m(lat, lon, c.lat[got], c.lon[got]) <= radius_m]
        return c.ids[np.sort(got)[::-1][:limit]].tolist()  # type: ignore[no-any-return]


def brute(
    c: Columns,
    lat: float,
    lon: float,
    radius_m: float,
    limit: int,
    before: tuple[float, int] | None = None,
    category: str | None = None,
) -> list[int]:
    """Ids of the true answer: every item near enough looked at with geo.haversine_m."""
    near = np.flatnonzero(distances_m(lat, lon, c.lat, c.lon) <= radius_m * 1.001 + 1.0)
    near = near[near < c.bound(before)]
    if category is not None:
        near = near[c.mask(category)[c.cat[near]]]
    out = []
    for rank in near[::-1].tolist():  # feed order, newest first
        if geo.haversine_m(lat, lon, c.lat[rank], c.lon[rank]) <= radius_m:
            out.append(int(c.ids[rank]))
            if len(out) == limit:
                break
    return out


def brute_box(
    c: Columns, west: float, south: float, east: float, north: float, limit: int
) -> list[int]:
    """Ids of the true answer of a box query."""
    inside = (c.lat >= south) & (c.lat <= north) & (c.lon >= west) & (c.lon <= east)
    return c.ids[np.flatnonzero(inside)[::-1][:limit]].tolist()  # type: ignore[no-any-return]


def load_before(src: Path) -> ModuleType | None:
    """The feed index module of another source tree (the H3 index), or None if absent."""
    path = src / "townsquare" / "incidents" / "index.py"
    if not path.exists() or "h3" not in path.read_text():
        return None
    spec = importlib.util.spec_from_file_location("feed_index_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
