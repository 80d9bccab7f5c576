"""Feed index benchmark: rebuild time, memory and query latency over synthetic incidents.

Builds 1,000,000 incidents in a 60×60 km metro box around Seattle (a few hundred gaussian
clusters of varying size plus 10 % uniform, public points snapped like `geo.coarsen` does,
30 days, 30 categories) and prints one table. `bench/feed.py` imports `synthetic_items` and
`measure_index` to compare the HTTP endpoint and the SQL fallback over the same data.
Run: `.venv/bin/python bench/feed_index.py` (`--n 200000` for a quicker look).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from h3.api import basic_int as h3i

from townsquare import geo, taxonomy
from townsquare.incidents import index as index_module
from townsquare.incidents.index import FeedIndex, IndexItem

CENTRE = (47.6062, -122.3321)
HALF_SIDE_M = 30_000.0
DAYS = 30
END = 1_767_225_600.0  # 2026-01-01T00:00:00Z, fixed so runs compare
M_PER_DEG = math.pi * geo.EARTH_RADIUS_M / 180.0


def synthetic_items(n: int, seed: int) -> list[IndexItem]:
    """`n` incidents in the metro box: clustered points, 30 days, ~30 categories, ids by time."""
    rng = random.Random(seed)
    dlat = HALF_SIDE_M / M_PER_DEG
    dlon = dlat / math.cos(math.radians(CENTRE[0]))
    codes = [c.code for c in taxonomy.categories().values() if not c.sensitive][:30]
    clusters = [
        (
            CENTRE[0] + rng.uniform(-dlat, dlat),
            CENTRE[1] + rng.uniform(-dlon, dlon),
            math.exp(rng.uniform(math.log(150.0), math.log(3_000.0))),  # sigma in metres
        )
        for _ in range(300)
    ]
    weights = [rng.paretovariate(1.2) for _ in clusters]  # a few hot spots, many quiet ones
    picks = rng.choices(range(len(clusters)), weights=weights, k=n)
    categories = rng.choices(codes, weights=[1.0 / (i + 1) for i in range(len(codes))], k=n)
    public: dict[int, tuple[float, float]] = {}
    rows = []
    for i in range(n):
        if rng.random() < 0.1:
            lat = CENTRE[0] + rng.uniform(-dlat, dlat)
            lon = CENTRE[1] + rng.uniform(-dlon, dlon)
        else:
            clat, clon, sigma = clusters[picks[i]]
            lat = min(
                max(clat + rng.gauss(0.0, sigma) / M_PER_DEG, CENTRE[0] - dlat), CENTRE[0] + dlat
            )
            dx = rng.gauss(0.0, sigma) / M_PER_DEG / math.cos(math.radians(clat))
            lon = min(max(clon + dx, CENTRE[1] - dlon), CENTRE[1] + dlon)
        cell = h3i.latlng_to_cell(lat, lon, geo.PUBLIC_RESOLUTION)
        point = public.get(cell)
        if point is None:
            coarse = geo.coarsen(geo.Point(lat, lon))
            point = public[cell] = (coarse.lat, coarse.lon)
        occurred = END - rng.random() * DAYS * 86_400
        rows.append((occurred + rng.expovariate(1 / 600.0), occurred, point, categories[i]))
    rows.sort()  # ids follow publication order, a few minutes after the incident
    return [IndexItem(i, p[0], p[1], t, c) for i, (_, t, p, c) in enumerate(rows, start=1)]


def query_centres(items: Sequence[IndexItem], count: int, seed: int) -> list[tuple[float, float]]:
    """Points where people look: near incidents, jittered ~300 m off the public points."""
    rng = random.Random(seed)
    out = []
    for item in rng.sample(list(items), count):
        lat = item.lat + rng.gauss(0.0, 300.0) / M_PER_DEG
        lon = item.lon + rng.gauss(0.0, 300.0) / M_PER_DEG / math.cos(math.radians(item.lat))
        out.append((lat, lon))
    return out


@dataclass(frozen=True)
class Figures:
    """Latency percentiles of one query shape, what each query looked at, table cache hits."""

    p50_us: float
    p99_us: float
    mean_us: float
    touched: float
    results: float
    table_hits: float


def figures(samples: list[float], touched: int, results: int, hits: tuple[int, int]) -> Figures:
    """Percentiles in µs and per-query averages of one timed run."""
    ordered = sorted(samples)
    return Figures(
        statistics.median(ordered) * 1e6,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        statistics.fmean(ordered) * 1e6,
        touched / len(samples),
        results / len(samples),
        hits[0] / (hits[0] + hits[1]) if any(hits) else math.nan,
    )


def table_counts() -> tuple[int, int]:
    """Hits and misses of the process-wide cell-table cache so far."""
    info = index_module._table.cache_info()
    return info.hits, info.misses


def measure_index(
    index: FeedIndex,
    centres: Sequence[tuple[float, float]],
    radius_m: float,
    limit: int = 50,
    *,
    page: int = 1,
    category: str | None = None,
) -> Figures:
    """Time `index.query` at each centre; page 2+ is timed with the cursor of the page before."""
    samples: list[float] = []
    touched = results = 0
    hits = (0, 0)
    for lat, lon in centres:
        before = None
        for _ in range(page - 1):
            shown = index.query(lat, lon, radius_m, limit, before=before, category=category)
            before = (shown[-1].occurred_at, shown[-1].id) if shown else None
        seen, counts = index.items_touched, table_counts()
        start = time.perf_counter()
        got = index.query(lat, lon, radius_m, limit, before=before, category=category)
        samples.append(time.perf_counter() - start)
        after = table_counts()
        hits = (hits[0] + after[0] - counts[0], hits[1] + after[1] - counts[1])
        touched += index.items_touched - seen
        results += len(got)
    return figures(samples, touched, results, hits)


def measure_bbox(
    index: FeedIndex, centres: Sequence[tuple[float, float]], side_m: float
) -> Figures:
    """Time `index.query_bbox` for newest 50 in a side_m × side_m box at each centre."""
    samples: list[float] = []
    touched = results = 0
    hits = (0, 0)
    for lat, lon in centres:
        dlat = side_m / 2 / M_PER_DEG
        dlon = dlat / math.cos(math.radians(lat))
        seen, counts = index.items_touched, table_counts()
        start = time.perf_counter()
        got = index.query_bbox(lon - dlon, lat - dlat, lon + dlon, lat + dlat, 50)
        samples.append(time.perf_counter() - start)
        after = table_counts()
        hits = (hits[0] + after[0] - counts[0], hits[1] + after[1] - counts[1])
        touched += index.items_touched - seen
        results += len(got)
    return figures(samples, touched, results, hits)


def rss_mb() -> float:
    """Resident set size of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def clear_caches(index: FeedIndex) -> None:
    """Forget the process-wide cell tables and the index's built items, as after a restart."""
    index_module._table.cache_clear()
    index_module._geometry.cache_clear()
    index._items.clear()


def main() -> None:
    """Build the data, measure rebuild, memory and queries, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic incidents")
    parser.add_argument("--queries", type=int, default=5_000, help="timed queries per row")
    parser.add_argument("--warm", type=int, default=20_000, help="untimed queries per shape")
    args = parser.parse_args()

    start = time.perf_counter()
    items = synthetic_items(args.n, seed=1)
    made_s = time.perf_counter() - start
    warm = query_centres(items, args.warm, seed=2)
    timed = query_centres(items, args.queries, seed=3)
    cold = query_centres(items, 500, seed=4)

    gc.collect()
    rss0 = rss_mb()
    builds = []
    for _ in range(3):
        start = time.perf_counter()
        index = FeedIndex.build(items)
        builds.append(time.perf_counter() - start)
        if len(builds) == 1:
            rss_delta = rss_mb() - rss0
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    traced = FeedIndex.build(items)
    built_mb = (tracemalloc.get_traced_memory()[0] - base) / 1e6
    tracemalloc.stop()
    del traced, items  # a server keeps the index, not the rows it was built from
    gc.collect()

    shapes: list[tuple[str, Callable[[Sequence[tuple[float, float]]], Figures]]] = [
        ("0.5 km", lambda at: measure_index(index, at, 500)),
        ("2 km", lambda at: measure_index(index, at, 2_000)),
        ("10 km", lambda at: measure_index(index, at, 10_000)),
        ("50 km", lambda at: measure_index(index, at, 50_000)),
        ("2 km, page 2 (before=cursor)", lambda at: measure_index(index, at, 2_000, page=2)),
        ("2 km, category 'fire'", lambda at: measure_index(index, at, 2_000, category="fire")),
        ("bbox 4×4 km", lambda at: measure_bbox(index, at, 4_000)),
    ]
    clear_caches(index)
    rows = [("2 km, cold caches (after restart)", measure_index(index, cold, 2_000))]
    for name, run in shapes:
        run(warm)  # a serving process has seen such queries before: its cell tables are cached
        rows.append((name, run(timed)))
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    clear_caches(index)
    measure_index(index, warm, 2_000)
    caches_mb = (tracemalloc.get_traced_memory()[0] - base) / 1e6
    tracemalloc.stop()
    reference = min(timeit.repeat("sum(range(1000))", number=2_000, repeat=5)) / 2_000 * 1e6

    print(f"\nfeed index: {args.n:,} incidents, 60×60 km around Seattle, {DAYS} days")
    print(f"synthetic data generated in {made_s:.1f} s (not part of the index)")
    builds.sort()
    print(f"rebuild (FeedIndex.build), 3 runs    {builds[0]:8.2f} s min, {builds[1]:.2f} s median")
    print(f"index memory (tracemalloc)           {built_mb:8.1f} MB   RSS delta {rss_delta:.1f} MB")
    print(f"caches after {args.warm:,} 2 km queries  {caches_mb:8.1f} MB   (cell tables, items)")
    print(f"machine: sum(range(1000)) takes {reference:.1f} µs in this Python")
    print(f"\nnewest 50 … ({len(timed):,} centres near incidents, after {args.warm:,} others)")
    head = ("query", "p50 µs", "p99 µs", "mean µs", "touched", "results", "tables")
    print(f"{head[0]:34} " + " ".join(f"{h:>8}" for h in head[1:]))
    for name, f in rows:
        print(
            f"{name:34} {f.p50_us:8.1f} {f.p99_us:8.1f} {f.mean_us:8.1f} "
            f"{f.touched:8.1f} {f.results:8.1f} "
            + (f"{f.table_hits:8.0%}" if f.table_hits == f.table_hits else f"{'scan':>8}")
        )


if __name__ == "__main__":
    main()
