"""Alert matching benchmark: the geofence index against PostGIS ST_DWithin on the same data.

    .venv/bin/python bench/alerts.py [--subs 1000000] [--incidents 2000]
        [--postgis-incidents 300] [--no-postgis]

Subscriptions are circles (radius 0.5-5 km) clustered around hubs in a 60x60 km box;
incidents fall in the same clusters. The PostGIS peer needs the extension: its setup step
installs `postgresql-15-postgis-3` with apt when missing (root), and uses the database in
TOWNSQUARE_BENCH_POSTGRES_URL (default: a `townsquare_bench` database on localhost).
Beside it, in the same run: a split grid (circles listed in every 1 km square their bounding
box touches, a vectorised distance test of the point's square), the simple peer the index
must beat or match. Memory is the growth of the process's resident set while each is built,
and the peak over the run. Prints one table. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import time
from collections.abc import Sequence

import numpy as np

from townsquare.alerts.cover import unit_vectors
from townsquare.alerts.index import CircleArea, GeofenceIndex
from townsquare.geo import EARTH_RADIUS_M

CENTER = (47.60, -122.33)
BOX_KM = 60.0
DEG_LAT_KM = 111.32


def clustered_points(
    rng: random.Random, n: int, hubs: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """`n` points around the hubs, inside the box."""
    half_lat = BOX_KM / 2 / DEG_LAT_KM
    half_lon = half_lat / math.cos(math.radians(CENTER[0]))
    points = []
    while len(points) < n:
        hub = rng.choice(hubs)
        lat = hub[0] + rng.gauss(0, half_lat / 4)
        lon = hub[1] + rng.gauss(0, half_lon / 4)
        if abs(lat - CENTER[0]) <= half_lat and abs(lon - CENTER[1]) <= half_lon:
            points.append((lat, lon))
    return points


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def bench_index(
    subs: list[tuple[float, float, float]], incidents: list[tuple[float, float]]
) -> tuple[float, list[float], list[float], list[int]]:
    """Build time (s), per-incident times (s) as an array and as a list, matches per incident."""
    before = rss_mb()
    start = time.perf_counter()
    index = GeofenceIndex.build(
        (i, CircleArea(lat, lon, r), None) for i, (lat, lon, r) in enumerate(subs)
    )
    build = time.perf_counter() - start
    bench_index.memory_mb = rss_mb() - before  # type: ignore[attr-defined]
    array_times, list_times, matched = [], [], []
    for lat, lon in incidents:
        t0 = time.perf_counter()
        found = index.match_ids(lat, lon)
        array_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.match(lat, lon)
        list_times.append(time.perf_counter() - t0)
        matched.append(len(found))
    return build, array_times, list_times, matched


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set (or its peak, VmHWM) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class SplitGrid:
    """The peer: each circle listed in every square of `GRID_M` its bounding box touches."""

    GRID_M = 1000.0

    def __init__(self, subs: list[tuple[float, float, float]]) -> None:
        table = np.array(subs, np.float64)
        self.lat0, self.lon0 = CENTER
        self.kx = math.cos(math.radians(self.lat0)) * DEG_LAT_KM * 1000
        x = (table[:, 1] - self.lon0) * self.kx
        y = (table[:, 0] - self.lat0) * DEG_LAT_KM * 1000
        reach = table[:, 2] * 1.01 + 50.0  # the plane is only for bucketing: pad its error
        # the test itself is exact on the sphere: unit vectors against cos(radius)
        self.unit = unit_vectors(table[:, 0], table[:, 1])
        self.cos = np.cos(table[:, 2] / EARTH_RADIUS_M)
        lo_x = np.floor((x - reach) / self.GRID_M).astype(np.int64)
        hi_x = np.floor((x + reach) / self.GRID_M).astype(np.int64)
        lo_y = np.floor((y - reach) / self.GRID_M).astype(np.int64)
        hi_y = np.floor((y + reach) / self.GRID_M).astype(np.int64)
        keys, owners = [], []
        for dx in range(int((hi_x - lo_x).max()) + 1):
            for dy in range(int((hi_y - lo_y).max()) + 1):
                ok = (lo_x + dx <= hi_x) & (lo_y + dy <= hi_y)
                keys.append(((lo_x + dx)[ok] << 32) + (lo_y + dy)[ok])
                owners.append(np.flatnonzero(ok).astype(np.int32))
        key, owner = np.concatenate(keys), np.concatenate(owners)
        order = np.argsort(key, kind="stable")
        self.key, self.owner = key[order], owner[order]

    def match_ids(self, lat: float, lon: float) -> np.ndarray:
        x, y = (lon - self.lon0) * self.kx, (lat - self.lat0) * DEG_LAT_KM * 1000
        k = (math.floor(x / self.GRID_M) << 32) + math.floor(y / self.GRID_M)
        a, b = np.searchsorted(self.key, [k, k + 1])
        cand = self.owner[a:b]
        point = unit_vectors(np.array([lat]), np.array([lon]))[0]
        return cand[np.take(self.unit, cand, axis=0) @ point >= self.cos.take(cand)]


def bench_grid(
    subs: list[tuple[float, float, float]], incidents: list[tuple[float, float]]
) -> tuple[float, float, list[float], list[int]]:
    """Build time (s), memory (MB), per-incident times (s), matches per incident."""
    before = rss_mb()
    start = time.perf_counter()
    grid = SplitGrid(subs)
    build = time.perf_counter() - start
    memory = rss_mb() - before
    times, matched = [], []
    for lat, lon in incidents:
        t0 = time.perf_counter()
        found = grid.match_ids(lat, lon)
        times.append(time.perf_counter() - t0)
        matched.append(len(found))
    return build, memory, times, matched


def bench_stored(
    subs: list[tuple[float, float, float]], incidents: list[tuple[float, float]]
) -> tuple[float, float, list[float]]:
    """The path a server takes at start: stored covers read as (subscription, cell) rows.

    The rows here are each circle's cells, inside and edge alike, made in bulk; a server's
    stored cells are finer (radius / 8) but of the same count per area. Build time (s),
    memory (MB), per-incident times (s).
    """
    index = GeofenceIndex.build(
        (i, CircleArea(lat, lon, r), None) for i, (lat, lon, r) in enumerate(subs)
    )
    table = index._table  # the bench borrows the rows the build made
    ids = index._ids
    cells = np.concatenate([table.pairs(False)[0], table.pairs(True)[0]])
    owners = ids.take(np.concatenate([table.inside, table.edge]))
    del index, table
    before = rss_mb()
    start = time.perf_counter()
    stored = GeofenceIndex.from_cells(owners, cells)
    build = time.perf_counter() - start
    memory = rss_mb() - before
    del owners, cells
    times = []
    for lat, lon in incidents:
        t0 = time.perf_counter()
        stored.match_ids(lat, lon)
        times.append(time.perf_counter() - t0)
    return build, memory, times


def micros(times: list[float]) -> str:
    """p50 / p99 in microseconds."""
    return f"{percentile(times, 50) * 1e6:,.0f} / {percentile(times, 99) * 1e6:,.0f} µs"


def ensure_postgis(url: str) -> None:
    """The benchmark's own setup step: install PostGIS with apt if the extension is missing."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
    if not available:
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql-15-postgis-3"], check=True)


def bench_postgis(
    url: str, subs: list[tuple[float, float, float]], incidents: list[tuple[float, float]]
) -> tuple[list[float], int]:
    """Per-incident ST_DWithin query times over a GiST-indexed geography column."""
    import psycopg

    ensure_postgis(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("DROP TABLE IF EXISTS bench_sub")
        conn.execute(
            "CREATE TABLE bench_sub"
            " (id int PRIMARY KEY, center geography(Point, 4326), radius_m float8)"
        )
        with conn.cursor().copy("COPY bench_sub (id, center, radius_m) FROM STDIN") as copy:
            for i, (lat, lon, r) in enumerate(subs):
                copy.write_row((i, f"SRID=4326;POINT({lon} {lat})", r))
        conn.execute("CREATE INDEX ON bench_sub USING gist (center)")
        conn.execute("ANALYZE bench_sub")
        times, matched = [], []
        query = (
            "SELECT id FROM bench_sub"
            " WHERE ST_DWithin(center, ST_MakePoint(%s, %s)::geography, 5000, false)"
            " AND ST_DWithin(center, ST_MakePoint(%s, %s)::geography, radius_m, false)"
        )
        for lat, lon in incidents:
            t0 = time.perf_counter()
            rows = conn.execute(query, (lon, lat, lon, lat)).fetchall()
            times.append(time.perf_counter() - t0)
            matched.append(len(rows))
        conn.execute("DROP TABLE bench_sub")
    return times, matched


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subs", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--postgis-incidents", type=int, default=300)
    parser.add_argument("--no-postgis", action="store_true")
    args = parser.parse_args()
    rng = random.Random(42)
    hubs = clustered_points(rng, 12, [CENTER])
    subs = [
        (lat, lon, rng.uniform(500, 5000)) for lat, lon in clustered_points(rng, args.subs, hubs)
    ]
    incidents = clustered_points(rng, args.incidents, hubs)

    build, idx_times, list_times, idx_matched = bench_index(subs, incidents)
    memory = bench_index.memory_mb  # type: ignore[attr-defined]
    grid_build, grid_memory, grid_times, grid_matched = bench_grid(subs, incidents)
    stored_build, stored_memory, stored_times = bench_stored(subs, incidents)
    same = sum(a == b for a, b in zip(idx_matched, grid_matched, strict=True))
    total = sum(idx_matched)
    with open("/proc/loadavg") as load:
        loadavg = load.read().split()[0]
    rows = [
        ("subscriptions", f"{args.subs:,}"),
        ("incidents matched", f"{args.incidents:,}"),
        ("load average at the end", loadavg),
        ("index build", f"{build:.1f} s, +{memory:,.0f} MB resident"),
        ("split grid build (peer)", f"{grid_build:.1f} s, +{grid_memory:,.0f} MB resident"),
        ("peak resident set of the run", f"{rss_mb('VmHWM'):,.0f} MB"),
        ("matches per incident (mean)", f"{total / len(incidents):,.0f}"),
        ("index p50 / p99 (numpy ids)", micros(idx_times)),
        ("index ns per matched subscriber", f"{sum(idx_times) / max(1, total) * 1e9:,.1f}"),
        ("index p50 / p99 (list of int)", micros(list_times)),
        ("split grid p50 / p99 (peer)", micros(grid_times)),
        ("stored covers: load", f"{stored_build:.1f} s, +{stored_memory:,.0f} MB resident"),
        ("stored covers: p50 / p99", micros(stored_times)),
        ("same count as the split grid", f"{same} of {len(incidents)} incidents"),
    ]
    if not args.no_postgis:
        url = os.environ.get(
            "TOWNSQUARE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        some = incidents[: args.postgis_incidents]
        pg_times, pg_matched = bench_postgis(url, subs, some)
        assert pg_matched == idx_matched[: len(some)], "PostGIS and the index disagree"
        ours = idx_times[: len(some)]
        rows += [
            (f"PostGIS p50 / p99 ({len(some)} incidents)", micros(pg_times)),
            (f"index p50 / p99 (same {len(some)})", micros(ours)),
            (
                "speed-up (p50, p99)",
                f"{percentile(pg_times, 50) / percentile(ours, 50):.1f}x, "
                f"{percentile(pg_times, 99) / percentile(ours, 99):.1f}x",
            ),
            ("same answers", "yes"),
        ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
