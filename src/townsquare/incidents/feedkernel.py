"""The feed query as one compiled loop (numba): newest-first merge of grid cells, exact test.

Items sit in feed order: an item's rank is its place by (occurred_at, id), so comparing ranks
compares times, and a cell is a sorted run of ranks. A query walks the rows of the level's
lat/lon grid that the circle or box can touch, finds each row's non-empty cells by binary
search over the sorted cell keys, and merges their runs newest first through a heap of
cursors, testing each item exactly and stopping at `limit`. The few items upserted since the
build (the delta) are scanned whole and merged in by (occurred_at, id).

Exact circle test: a dot product of unit vectors decides all but a thin band around the rim;
there the haversine is computed as `geo.haversine_m` does, and if it lands within a few ULPs
of the radius the loop stops and asks (`AMBIGUOUS`): the caller decides that point with
`geo.haversine_m` itself and calls again with the verdict in `verdicts`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

AMBIGUOUS = -1
"""Returned when a point's distance is too close to the radius to call here."""

# query parameters (one float64 array, so a call unboxes few arguments)
CIRCLE, BOX = 0.0, 1.0
Q_MODE, Q_A, Q_B, Q_C, Q_D = 0, 1, 2, 3, 4  # circle: lat lon radius_m (r rad); box: w s e n
Q_PX, Q_PY, Q_PZ, Q_SURE, Q_MAYBE, Q_BAND = 5, 6, 7, 8, 9, 10
Q_SINCE, Q_UPPER_T, Q_STEP, Q_WHOLE = 11, 12, 13, 14
Q_PROBE_LAT, Q_PROBE_LON, Q_TOUCHED = 15, 16, 17
Q_SIZE = 18

_RAD = math.pi / 180.0  # the factor math.radians multiplies by
_EARTH_RADIUS_M = 6_371_008.8


@njit(cache=True, nogil=True)
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """`geo.haversine_m`, operation for operation."""
    p1 = lat1 * _RAD
    p2 = lat2 * _RAD
    dp = p2 - p1
    dl = (lon2 - lon1) * _RAD
    s = math.sin(dp / 2)
    u = math.sin(dl / 2)
    a = s * s + math.cos(p1) * math.cos(p2) * (u * u)
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@njit(cache=True, nogil=True)
def _decide(q: Any, verdicts: Any, lat: float, lon: float, dot: float) -> int:
    if dot >= q[Q_SURE]:
        return 1
    if dot < q[Q_MAYBE]:
        return 0
    d = haversine_m(q[Q_A], q[Q_B], lat, lon)
    if abs(d - q[Q_C]) > q[Q_BAND]:
        return 1 if d <= q[Q_C] else 0
    for k in range(verdicts.shape[0]):
        if verdicts[k, 0] == lat and verdicts[k, 1] == lon:
            return int(verdicts[k, 2])
    q[Q_PROBE_LAT], q[Q_PROBE_LON] = lat, lon
    return -1


@njit(cache=True, nogil=True)
def _inside(q: Any, verdicts: Any, geo: Any, p: int) -> int:
    if q[Q_MODE] == BOX:
        lat, lon = geo[p, 0], geo[p, 1]
        return 1 if q[Q_B] <= lat <= q[Q_D] and q[Q_A] <= lon <= q[Q_C] else 0
    dot = q[Q_PX] * geo[p, 2] + q[Q_PY] * geo[p, 3] + q[Q_PZ] * geo[p, 4]
    return _decide(q, verdicts, geo[p, 0], geo[p, 1], dot)


@njit(cache=True, nogil=True)
def _before(t1: float, id1: int, t2: float, id2: int) -> bool:
    return t1 < t2 or (t1 == t2 and id1 < id2)


@njit(cache=True, nogil=True)
def _upper_rank(t: Any, ids: Any, upper_t: float, upper_id: int) -> int:
    """How many items sort strictly before (upper_t, upper_id)."""
    lo = np.searchsorted(t, upper_t, "left")
    hi = np.searchsorted(t, upper_t, "right")
    while lo < hi:  # equal times are in id order
        mid = (lo + hi) // 2
        if ids[mid] < upper_id:
            lo = mid + 1
        else:
            hi = mid
    return int(lo)


@njit(cache=True, nogil=True)
def _lon_half_deg(q: Any, a: float, b: float) -> float:
    """Half the longitude span (degrees) of the circle within latitudes [a, b] (radians)."""
    r = q[Q_C] / _EARTH_RADIUS_M
    p0 = q[Q_A] * _RAD
    if r >= 1.5 or abs(p0) + r >= math.pi / 2 - 1e-9:
        return 360.0  # a pole may be inside: every longitude
    widest = math.asin(min(1.0, math.sin(p0) / math.cos(r)))  # latitude of the widest point
    p = min(max(widest, a), b)
    c = (math.cos(r) - math.sin(p) * math.sin(p0)) / (math.cos(p) * math.cos(p0))
    return math.acos(min(1.0, max(-1.0, c))) / _RAD + 2e-5  # acos is coarse near 1: pad


@njit(cache=True, nogil=True)
def _push(heap: Any, size: int, rank: int, at: int, low: int) -> int:
    """Add a cursor to the max-heap of (rank, position, start of its run)."""
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent, 0] >= rank:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i, 0], heap[i, 1], heap[i, 2] = rank, at, low
    return size + 1


@njit(cache=True, nogil=True)
def _sift(heap: Any, size: int) -> None:
    """Restore the heap after its top's rank dropped."""
    rank, at, low = heap[0, 0], heap[0, 1], heap[0, 2]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1, 0] > heap[child, 0]:
            child += 1
        if heap[child, 0] <= rank:
            break
        heap[i] = heap[child]
        i = child
    heap[i, 0], heap[i, 1], heap[i, 2] = rank, at, low


@njit(cache=True, nogil=True)
def _cursors(q: Any, keys: Any, starts: Any, ranks: Any, bound: int, heap: Any) -> int:
    """Fill the heap with the newest item below `bound` of each cell the area may touch."""
    step = q[Q_STEP]
    nrows, ncols = math.ceil(180.0 / step), math.ceil(360.0 / step)
    if q[Q_MODE] == BOX:
        south, north, west, east = q[Q_B], q[Q_D], q[Q_A], q[Q_C]
    else:
        half = q[Q_C] / _EARTH_RADIUS_M / _RAD + 1e-9
        south, north = q[Q_A] - half, q[Q_A] + half
        west = east = q[Q_B]
    r0 = min(max(math.floor((south + 90.0) / step), 0), nrows - 1)
    r1 = min(max(math.floor((north + 90.0) / step), 0), nrows - 1)
    size = 0
    for row in range(r0, r1 + 1):
        w, e = west, east
        if q[Q_MODE] == CIRCLE:
            a = max(row * step - 90.0, south) * _RAD
            b = min((row + 1) * step - 90.0, north) * _RAD
            half_lon = _lon_half_deg(q, a, b)
            w, e = west - half_lon, east + half_lon
        spans = 1
        if e - w >= 360.0:
            w, e = -180.0, 180.0
        elif w < -180.0 or e > 180.0:
            spans = 2
        for span in range(spans):
            lo, hi = w, e
            if spans == 2:  # past the antimeridian: the part on the other side, wrapped
                if w < -180.0:
                    lo, hi = (-180.0, e) if span == 0 else (w + 360.0, 180.0)
                else:
                    lo, hi = (w, 180.0) if span == 0 else (-180.0, e - 360.0)
            c0 = min(max(math.floor((lo + 180.0) / step), 0), ncols - 1)
            c1 = min(max(math.floor((hi + 180.0) / step), 0), ncols - 1)
            first = np.searchsorted(keys, row * ncols + c0, "left")
            last = np.searchsorted(keys, row * ncols + c1, "right")
            for cell in range(first, last):
                low, end = starts[cell], starts[cell + 1]
                if bound < ranks[end - 1] + 1:
                    end = low + np.searchsorted(ranks[low:end], bound, "left")
                if end > low:
                    size = _push(heap, size, ranks[end - 1], end - 1, low)
    return size


@njit(cache=True, nogil=True)
def newest(
    level: tuple[Any, Any, Any],
    t: Any,
    ids: Any,
    point: Any,
    cat: Any,
    alive: Any,
    geo: Any,
    delta: tuple[Any, Any, Any, Any],
    q: Any,
    upper_id: int,
    wanted: Any,
    verdicts: Any,
    heap: Any,
    out: Any,
) -> int:
    """Fill `out` newest first with ranks (>= 0) and delta rows (-1 - row); return the count,
    or AMBIGUOUS with the undecided point in q[Q_PROBE_LAT], q[Q_PROBE_LON]. `heap` is scratch
    of one row per non-empty cell of the level (at least one)."""
    keys, starts, ranks = level
    dgeo, dt, did, dcat = delta
    limit, since = len(out), q[Q_SINCE]
    n = len(t)
    bound = n if q[Q_UPPER_T] == np.inf else _upper_rank(t, ids, q[Q_UPPER_T], upper_id)
    # the delta's matches, newest first (it is small: a plain insertion sort)
    rows = np.empty(len(dt), np.int64)
    m = 0
    for j in range(len(dt)):
        if not wanted[dcat[j]] or dt[j] < since:
            continue
        if dt[j] > q[Q_UPPER_T] or (dt[j] == q[Q_UPPER_T] and did[j] >= upper_id):
            continue
        verdict = _inside(q, verdicts, dgeo, j)
        if verdict < 0:
            return AMBIGUOUS
        if verdict:
            i = m
            while i > 0 and _before(dt[rows[i - 1]], did[rows[i - 1]], dt[j], did[j]):
                rows[i] = rows[i - 1]
                i -= 1
            rows[i] = j
            m += 1
    if q[Q_WHOLE] != 0.0:  # every item in feed order: one run
        size = 0
        if bound > 0:
            size = _push(heap, 0, bound - 1, bound - 1, 0)
    else:
        size = _cursors(q, keys, starts, ranks, bound, heap)
    whole = q[Q_WHOLE] != 0.0
    found = touched = dnext = 0
    rank = -1  # the next base match, once found
    while found < limit:
        while rank < 0 and size > 0:
            r, at, low = heap[0, 0], heap[0, 1], heap[0, 2]
            if t[r] < since:
                size = 0
                break
            if at > low:
                heap[0, 0] = (at - 1) if whole else ranks[at - 1]
                heap[0, 1] = at - 1
                _sift(heap, size)
            else:
                size -= 1
                if size > 0:
                    heap[0] = heap[size]
                    _sift(heap, size)
            if not alive[r] or not wanted[cat[r]]:
                continue
            touched += 1
            verdict = _inside(q, verdicts, geo, point[r])
            if verdict < 0:
                return AMBIGUOUS
            if verdict:
                rank = r
        if dnext < m and (
            rank < 0 or _before(t[rank], ids[rank], dt[rows[dnext]], did[rows[dnext]])
        ):
            out[found] = -1 - rows[dnext]
            dnext += 1
        elif rank >= 0:
            out[found] = rank
            rank = -1
        else:
            break
        found += 1
    q[Q_TOUCHED] = touched + len(dt)
    return found
