"""Feed index benchmark: rebuild time, memory and query latency over synthetic incidents.

Builds 1,000,000 incidents in a 60×60 km metro box around Seattle (a few hundred gaussian
clusters of varying size plus 10 % uniform, public points snapped like `geo.coarsen` does,
30 days, 30 categories) and prints one table. `bench/feed.py` imports `synthetic_items` and
`measure` to compare the HTTP endpoint and the SQL fallback over the same data.
Peers in the same run: a plain numpy grid (gather the cells' items, filter, sort) and the
H3 index this one replaced (`--before SRC`: a source tree that has it, loaded from its file).
Every answer of a sample of queries is checked against brute force over all items.
Run: `.venv/bin/python bench/feed_index.py` (`--n 200000` for a quicker look).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed_index_peers import Columns, NumpyGrid, brute, brute_box, load_before
from h3.api import basic_int as h3i

from townsquare import geo, taxonomy
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
    """Latency percentiles of one query shape and what each query looked at."""

    p50_us: float
    p99_us: float
    mean_us: float
    touched: float
    results: float


def figures(samples: list[float], touched: int, results: int) -> Figures:
    """Percentiles in µs and per-query averages of one timed run."""
    ordered = sorted(samples)
    return Figures(
        statistics.median(ordered) * 1e6,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        statistics.fmean(ordered) * 1e6,
        touched / len(samples),
        results / len(samples),
    )


Query = Callable[[float, float], Sequence[Any]]


def measure(run: Query, centres: Sequence[tuple[float, float]], index: Any = None) -> Figures:
    """Time `run(lat, lon)` at each centre (the FeedIndex also counts items looked at)."""
    samples: list[float] = []
    touched = results = 0
    for lat, lon in centres:
        seen = getattr(index, "items_touched", 0)
        start = time.perf_counter()
        got = run(lat, lon)
        samples.append(time.perf_counter() - start)
        touched += getattr(index, "items_touched", 0) - seen
        results += len(got)
    return figures(samples, touched, results)


def cursor(index: Any, lat: float, lon: float, radius_m: float) -> tuple[float, int] | None:
    """The keyset cursor after the first page of 50 there."""
    shown = index.query(lat, lon, radius_m, 50)
    return (shown[-1].occurred_at, shown[-1].id) if shown else None


def box(lat: float, lon: float, side_m: float) -> tuple[float, float, float, float]:
    """West, south, east, north of a side_m square around the point."""
    dlat = side_m / 2 / M_PER_DEG
    dlon = dlat / math.cos(math.radians(lat))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def shapes(index: Any) -> list[tuple[str, Query]]:
    """The query shapes timed, on a FeedIndex or the H3 index (same API)."""
    pages: dict[tuple[float, float], Any] = {}

    def page2(lat: float, lon: float) -> Sequence[Any]:
        return index.query(lat, lon, 2_000, 50, before=pages[lat, lon])

    def prepare(centres: Sequence[tuple[float, float]]) -> None:
        pages.update({(a, b): cursor(index, a, b, 2_000) for a, b in centres})

    page2.prepare = prepare  # type: ignore[attr-defined]
    return [
        ("0.5 km", lambda a, b: index.query(a, b, 500, 50)),
        ("2 km", lambda a, b: index.query(a, b, 2_000, 50)),
        ("10 km", lambda a, b: index.query(a, b, 10_000, 50)),
        ("50 km", lambda a, b: index.query(a, b, 50_000, 50)),
        ("2 km, page 2 (before=cursor)", page2),
        ("2 km, category 'fire'", lambda a, b: index.query(a, b, 2_000, 50, category="fire")),
        ("bbox 4×4 km", lambda a, b: index.query_bbox(*box(a, b, 4_000), 50)),
    ]


def rss_mb() -> float:
    """Resident set size of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def timed_build(make: Callable[[], Any], runs: int) -> tuple[Any, list[float], float, float]:
    """The built thing, build times, traced MB and RSS growth of the first build."""
    gc.collect()
    rss0 = rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    built = make()
    times = [time.perf_counter() - start]
    traced = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    rss = rss_mb() - rss0
    for _ in range(runs - 1):
        start = time.perf_counter()
        make()
        times.append(time.perf_counter() - start)
    return built, sorted(times), traced, rss


def exactness(index: FeedIndex, peers: dict[str, Any], c: Columns, centres: Any) -> list[str]:
    """Answers equal to brute force, for this index and each peer, over sampled queries."""
    hits = dict.fromkeys(["FeedIndex", *peers], 0)
    total = 0
    rng = random.Random(5)
    for lat, lon in centres:
        radius = rng.choice([500.0, 2_000.0, 10_000.0, 50_000.0])
        category = rng.choice([None, None, "fire", "crime"])
        before = cursor(index, lat, lon, radius) if rng.random() < 0.3 else None
        want = brute(c, lat, lon, radius, 50, before, category)
        got = index.query(lat, lon, radius, 50, before=before, category=category)
        hits["FeedIndex"] += [it.id for it in got] == want
        for name, peer in peers.items():
            if isinstance(peer, NumpyGrid):
                answer = peer.query(lat, lon, radius, 50, before, category)
            else:
                answer = [
                    it.id
                    for it in peer.query(lat, lon, radius, 50, before=before, category=category)
                ]
            hits[name] += answer == want
        west, south, east, north = box(lat, lon, radius * 2)
        boxed = [it.id for it in index.query_bbox(west, south, east, north, 50)]
        hits["FeedIndex"] += boxed == brute_box(c, west, south, east, north, 50)
        total += 1
    return [
        f"{name}: {n} of {total * (2 if name == 'FeedIndex' else 1)}" for name, n in hits.items()
    ]


def updates(index: FeedIndex, items: Sequence[IndexItem], count: int) -> tuple[float, float, float]:
    """µs per live upsert (moved to now), per remove, and the 2 km p50 with a full delta."""
    rng = random.Random(9)
    chosen = rng.sample(list(items), count)
    start = time.perf_counter()
    for k, it in enumerate(chosen):
        index.upsert(IndexItem(it.id, it.lat, it.lon, END + k, it.category))
    upsert_us = (time.perf_counter() - start) / count * 1e6
    start = time.perf_counter()
    for it in chosen[: count // 2]:
        index.remove(it.id)
    remove_us = (time.perf_counter() - start) / (count // 2) * 1e6
    return upsert_us, remove_us, 0.0


def cold_start(src: Path) -> str:
    """A fresh process: import the index, build 1,000 items, first query (numba cache warm)."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from townsquare.incidents.index import FeedIndex, IndexItem\n"
        "t1 = time.perf_counter()\n"
        "rows = [IndexItem(i, 47.6 + i * 1e-4, -122.3, float(i), 'f') for i in range(1000)]\n"
        "ix = FeedIndex.build(rows)\n"
        "t2 = time.perf_counter(); ix.query(47.6, -122.3, 2000.0, 50); t3 = time.perf_counter()\n"
        "ix.query(47.6, -122.3, 2000.0, 50); t4 = time.perf_counter()\n"
        "print(f'import {t1 - t0:.2f} s, build 1k {t2 - t1:.3f} s, first query {t3 - t2:.2f} s, "
        "second {(t4 - t3) * 1e6:.0f} µs')"
    )
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    return (done.stdout or done.stderr).strip().splitlines()[-1]


def row(times: list[float], traced: float, rss: float) -> str:
    """One build row: min and median seconds, traced and resident MB, load."""
    median = f"{times[len(times) // 2]:8.2f}" if len(times) > 1 else f"{'':8}"
    return f"{times[0]:8.2f} {median} {traced:9.1f} {rss:8.1f}  {load()}"


def load() -> str:
    """The load average now."""
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    """Build the data and the peers, check answers, time queries, print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic incidents")
    parser.add_argument("--queries", type=int, default=5_000, help="timed queries per row")
    parser.add_argument("--warm", type=int, default=5_000, help="untimed queries per shape")
    parser.add_argument("--check", type=int, default=300, help="queries checked by brute force")
    parser.add_argument("--before", type=Path, help="a source tree with the H3 index (its src)")
    parser.add_argument("--no-before", action="store_true", help="skip the H3 index")
    args = parser.parse_args()

    print(f"cold start: {cold_start(Path(__file__).resolve().parents[1] / 'src')} ({load()})")
    start = time.perf_counter()
    items = synthetic_items(args.n, seed=1)
    made_s = time.perf_counter() - start
    warm = query_centres(items, args.warm, seed=2)
    timed = query_centres(items, args.queries, seed=3)

    print(f"\nfeed index: {args.n:,} incidents, 60×60 km around Seattle, {DAYS} days")
    print(f"synthetic data generated in {made_s:.1f} s (not part of any index)")
    print(f"{'build':34} {'min s':>8} {'median s':>8} {'traced MB':>9} {'RSS MB':>8}")
    index, times, traced, rss = timed_build(lambda: FeedIndex.build(items), 3)
    print(f"{'FeedIndex.build (grid, numba)':34} {row(times, traced, rss)}")
    columns, times, traced, rss = timed_build(lambda: Columns(items), 1)
    grid, times2, traced2, rss2 = timed_build(lambda: NumpyGrid(columns), 3)
    print(f"{'numpy grid (columns from items)':34} {times[0]:8.2f} {'':8} {traced:9.1f} {rss:8.1f}")
    print(f"{'numpy grid (cells from columns)':34} {row(times2, traced2, rss2)}")
    peers: dict[str, Any] = {"numpy grid": grid}
    before = None if args.no_before or args.before is None else load_before(args.before)
    if before is not None:
        h3index, times, traced, rss = timed_build(lambda: before.FeedIndex.build(items), 1)
        print(f"{'H3 index (before), 1 run':34} {row(times, traced, rss)}")
        peers["H3 (before)"] = h3index

    checks = query_centres(items, args.check, seed=4)
    print(
        "\nexact (same ids as brute force, geo.haversine_m): "
        + "; ".join(exactness(index, peers, columns, checks))
    )

    runs: list[tuple[str, str, Figures]] = []
    contenders: list[tuple[str, Any]] = [("FeedIndex", index)]
    if before is not None:
        contenders.append(("H3 (before)", peers["H3 (before)"]))
    for name, _ in shapes(index):
        for who, subject in contenders:
            query = dict(shapes(subject))[name]
            if hasattr(query, "prepare"):
                query.prepare(warm + timed)  # type: ignore[attr-defined]
            measure(query, warm, subject)
            runs.append((name, who, measure(query, timed, subject)))
        if name in ("0.5 km", "2 km", "10 km", "50 km", "2 km, category 'fire'"):
            radius = {"0.5 km": 500, "10 km": 10_000, "50 km": 50_000}.get(name, 2_000)
            cat = "fire" if "fire" in name else None
            peer = lambda a, b, r=radius, c=cat: grid.query(a, b, r, 50, None, c)  # noqa: E731
            few = 200 if radius >= 10_000 else len(timed)  # it takes ms there: fewer
            measure(peer, warm[:few])
            runs.append(
                (name, f"numpy grid{'*' if few < len(timed) else ''}", measure(peer, timed[:few]))
            )
        ids = lambda a, b: index.query_ranks(a, b, 2_000, 50)  # noqa: E731
    measure(ids, warm)
    runs.append(("2 km, ranks only (no items)", "FeedIndex", measure(ids, timed, index)))

    upsert_us, remove_us, _ = updates(index, items, 3_000)
    after = measure(dict(shapes(index))["2 km"], timed, index)
    print(
        f"\nnewest 50 … ({len(timed):,} centres near incidents, after {len(warm):,} others;"
        f" {load()})"
    )
    head = ("query", "index", "p50 µs", "p99 µs", "mean µs", "touched", "results")
    print(f"{head[0]:30} {head[1]:12} " + " ".join(f"{h:>8}" for h in head[2:]))
    for name, who, f in runs:
        print(
            f"{name:30} {who:12} {f.p50_us:8.1f} {f.p99_us:8.1f} {f.mean_us:8.1f}"
            f" {f.touched:8.1f} {f.results:8.1f}"
        )
    print(
        f"\nlive changes: 3,000 upserts {upsert_us:.1f} µs each (the delta is rebuilt into the"
        " base past 1,024) "
        f"1,500 removes {remove_us:.1f} µs each; 2 km after them "
        f"p50 {after.p50_us:.1f} µs p99 {after.p99_us:.1f} µs ({load()})"
    )
    print("* numpy grid timed on 200 centres only at 10 and 50 km")
    reference = min(timeit.repeat("sum(range(1000))", number=2_000, repeat=5)) / 2_000 * 1e6
    print(f"machine: sum(range(1000)) takes {reference:.1f} µs in this Python")


if __name__ == "__main__":
    main()
