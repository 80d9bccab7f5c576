"""The feed index's columns, built in bulk with numpy: items in feed order, grid cells per level.

An item's rank is its place by (occurred_at, id). Points are stored once (published points are
coarsened, so many items share one) with their unit vectors for the compiled distance test.
Each level sorts `cell key * n + rank` once: the cells come out in key order and each cell's
ranks ascending, with no argsort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Level = tuple[Any, Any, Any]
"""Sorted non-empty cell keys (row * columns + column), run starts (one more), ranks."""


@dataclass(frozen=True, slots=True)
class Columns:
    """The built part of the index; only `alive` changes afterwards."""

    t: Any  # float64 occurred_at, by rank
    ids: Any  # int64, by rank
    point: Any  # int32 row of `geo`, by rank
    cat: Any  # int16 category code, by rank
    alive: Any  # bool, by rank: False once changed or removed
    geo: Any  # float64 (points, 5): lat, lon, x, y, z
    levels: tuple[Level, ...]
    sorted_ids: Any  # int64 ascending
    rank_of: Any  # int32 rank of each of sorted_ids
    heap: Any  # int64 (cells of the largest level, 3): the query loop's scratch


def unit_rows(lat: Any, lon: Any) -> Any:
    """(n, 3) unit vectors of the points."""
    a, b = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)])


def _valid(lat: Any, lon: Any, t: Any) -> bool:
    if not len(lat):
        return True
    finite = np.isfinite(lat).all() and np.isfinite(lon).all() and np.isfinite(t).all()
    return bool(finite and lat.min() >= -90 and lat.max() <= 90 and abs(lon).max() <= 180)


def _last_of_each_id(ids: Any) -> Any:
    """Positions to keep so a repeated id keeps its last item, or None if ids are unique."""
    by_id = np.argsort(ids, kind="stable")
    repeated = ids[by_id][1:] == ids[by_id][:-1]
    if not repeated.any():
        return None
    keep = np.ones(len(ids), np.bool_)
    keep[:-1] = ~repeated
    return np.sort(by_id[keep])


def _level(step: float, plat: Any, plon: Any, point: Any) -> Level:
    n = len(point)
    nrows, ncols = math.ceil(180.0 / step), math.ceil(360.0 / step)
    rows = np.clip(np.floor((plat + 90.0) / step).astype(np.int64), 0, nrows - 1)
    cols = np.clip(np.floor((plon + 180.0) / step).astype(np.int64), 0, ncols - 1)
    combined = (rows * ncols + cols)[point] * max(n, 1) + np.arange(n, dtype=np.int64)
    combined.sort()
    keys, ranks = np.divmod(combined, max(n, 1))
    starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    first = np.concatenate([[0], starts]) if n else starts
    return (
        np.ascontiguousarray(keys[first]),
        np.concatenate([first, [n]]).astype(np.int64),
        ranks.astype(np.int32),
    )


def build_columns(
    ids: Any, lat: Any, lon: Any, t: Any, cat: Any, steps: tuple[float, ...]
) -> Columns:
    """The columns of these items (parallel arrays); a repeated id keeps its last item."""
    if not _valid(lat, lon, t):
        raise ValueError("an item's point or time is out of range")
    keep = _last_of_each_id(ids)
    if keep is not None:
        ids, lat, lon, t, cat = (a[keep] for a in (ids, lat, lon, t, cat))
    feed = np.lexsort((ids, t))
    ids, lat, lon, t, cat = (np.ascontiguousarray(a[feed]) for a in (ids, lat, lon, t, cat))
    where = np.empty(len(ids), np.complex128)
    where.real, where.imag = lat, lon
    points, inverse = np.unique(where, return_inverse=True)
    plat, plon = points.real.copy(), points.imag.copy()
    point = inverse.astype(np.int32).reshape(-1)
    by_id = np.argsort(ids)
    levels = tuple(_level(step, plat, plon, point) for step in steps)
    return Columns(
        t=t,
        ids=ids,
        point=point,
        cat=cat.astype(np.int16),
        alive=np.ones(len(ids), np.bool_),
        geo=np.ascontiguousarray(np.column_stack([plat, plon, unit_rows(plat, plon)])),
        levels=levels,
        sorted_ids=np.ascontiguousarray(ids[by_id]),
        rank_of=by_id.astype(np.int32),
        heap=np.empty((max(1, *(len(keys) for keys, _, _ in levels)), 3), np.int64),
    )
