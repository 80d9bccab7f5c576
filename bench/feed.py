"""Feed benchmark: "newest 50 within 2 km" over 1,000,000 synthetic incidents.

Prints one table: the in-memory index alone, the HTTP endpoint (a real `townsquare serve`
process whose index is rebuilt from the store at start; the first request of each centre, which
encodes its incidents, then the same again), and the SQL fallback (H3 cells IN (...) plus exact
distance) on SQLite, all over the same data and the same query centres; then requests per
second at 64 connections (the feed, /healthz, and a bare ASGI app as the ceiling; by the Python
load generator, and by `wrk` too when it is installed) and the load average.
`--before ../main/src` serves another source tree over the same store first.
Run: `make bench` (or `.venv/bin/python bench/feed.py --n 200000` for a quicker look).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))

from feed_index import synthetic_items
from feed_load import throughput, wrk_throughput

from townsquare import geo
from townsquare.db import make_engine, make_sessionmaker
from townsquare.incidents import service
from townsquare.incidents.index import FeedIndex, IndexItem
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import Circle, FeedQuery
from townsquare.migrations import runner

RADIUS_M = 2_000
LIMIT = 50


def percentiles(samples_s: Sequence[float]) -> tuple[float, float, float]:
    """p50, p99 and mean in microseconds."""
    ordered = sorted(samples_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (statistics.median(ordered) * 1e6, p99 * 1e6, statistics.fmean(ordered) * 1e6)


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock durations of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def centres(items: list[IndexItem], count: int, seed: int) -> list[tuple[float, float]]:
    """Query centres drawn from where incidents are (people look where things happen)."""
    rng = random.Random(seed)
    return [(item.lat, item.lon) for item in rng.sample(items, count)]


def fill_sqlite(url: str, items: list[IndexItem]) -> float:
    """Migrate a fresh SQLite store and insert the items as public incidents; seconds taken."""
    engine = make_engine(url)
    runner.upgrade(engine)
    start = time.perf_counter()
    rows = []
    with engine.begin() as connection:
        for item in items:
            cells = geo.cells_of(geo.Point(item.lat, item.lon))
            at = datetime.fromtimestamp(item.occurred_at, UTC)
            rows.append(
                {
                    "id": item.id,
                    "origin": "dispatch",
                    "category": item.category,
                    "original_type": item.category,
                    "title": item.category,
                    "summary": "",
                    "address_block": "100 block of Main St",
                    "lat": item.lat,
                    "lon": item.lon,
                    "h3_r5": cells[5],
                    "h3_r7": cells[7],
                    "h3_r9": cells[9],
                    "occurred_at": at,
                    "published_at": at,
                    "updated_at": at,
                    "status": "active",
                    "severity": 2,
                    "visibility": "public",
                    "visibility_reasons": [],
                    "alertable": False,
                    "alertable_reasons": [],
                    "unit_count": 1,
                    "content_hash": "bench",
                }
            )
            if len(rows) == 20_000:
                connection.execute(insert(Incident), rows)
                rows.clear()
        if rows:
            connection.execute(insert(Incident), rows)
    engine.dispose()
    return time.perf_counter() - start


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(
    command: list[str], env: dict[str, str], port: int, ready_path: str
) -> tuple[Any, float]:
    """Start a server and wait until `ready_path` answers 200; the process and seconds taken."""
    start = time.perf_counter()
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).parent)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        while True:
            try:
                if client.get(ready_path).status_code == 200:
                    return server, time.perf_counter() - start
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise RuntimeError("server exited before it was ready")
            time.sleep(0.1)


def _latencies(port: int, paths: list[str]) -> list[float]:
    samples = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for path in paths:
            t0 = time.perf_counter()
            response = client.get(path)
            samples.append(time.perf_counter() - t0)
            response.raise_for_status()
    return samples


def feed_paths(points: list[tuple[float, float]]) -> list[str]:
    """The feed request of each query centre."""
    return [
        f"/api/v1/incidents?lat={lat}&lon={lon}&radius_m={RADIUS_M}&limit={LIMIT}"
        for lat, lon in points
    ]


def bench_http(
    url: str, points: list[tuple[float, float]], src: str, seconds: float
) -> HttpFigures:
    """A real `townsquare serve` of the code in `src`: latencies one at a time (the first pass
    over the centres, then again), requests per second at 64 connections, start-up time."""
    port = free_port()
    env = {**os.environ, "TOWNSQUARE_DATABASE_URL": url, "TOWNSQUARE_LOG_LEVEL": "WARNING"}
    env["PYTHONPATH"] = src
    command = [sys.executable, "-m", "townsquare.cli", "serve", "--port", str(port)]
    server, ready = _serve(command, env, port, "/readyz")
    try:
        paths = feed_paths(points)
        first = _latencies(port, paths)
        again = _latencies(port, paths)
        feed_rps = throughput(port, paths, seconds=seconds)
        health_rps = throughput(port, ["/healthz"], seconds=seconds)
        wrk = (
            wrk_throughput(port, paths, seconds=seconds),
            wrk_throughput(port, ["/healthz"], seconds=seconds),
            os.getloadavg()[0],
        )
        return HttpFigures(first, again, feed_rps, health_rps, ready, os.getloadavg()[0], wrk)
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench_raw(seconds: float) -> tuple[float, float | None]:
    """Requests per second of a bare ASGI app on uvicorn at 64 connections (the ceiling), by
    the Python load generator and by wrk (None without it)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "feed_load:raw_app", "--port", str(port)]
    server, _ = _serve([*command, "--log-level", "warning"], dict(os.environ), port, "/")
    try:
        return throughput(port, ["/"], seconds=seconds), wrk_throughput(
            port, ["/"], seconds=seconds
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class HttpFigures:
    """What one server run measured."""

    first: list[float]
    again: list[float]
    feed_rps: float
    health_rps: float
    ready_s: float
    load: float
    """The 1-minute load average after the Python generator's runs."""
    wrk: tuple[float | None, float | None, float]
    """wrk's feed and /healthz requests per second (None without wrk), and the load after."""


def main() -> None:
    """Build the data, measure each path, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic incidents")
    parser.add_argument("--queries", type=int, default=2_000, help="index queries")
    parser.add_argument("--http-queries", type=int, default=500)
    parser.add_argument("--sql-queries", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="of each throughput run")
    parser.add_argument(
        "--before", metavar="SRC", help="also serve this source tree (e.g. main's src) as 'before'"
    )
    args = parser.parse_args()
    load_at_start = os.getloadavg()

    items = synthetic_items(args.n, seed=1)
    points = centres(items, args.queries, seed=2)

    t0 = time.perf_counter()
    index = FeedIndex.build(items)
    rebuild_s = time.perf_counter() - t0
    touched = []

    def one(lat: float, lon: float) -> None:
        touched.append(len(index.query(lat, lon, RADIUS_M, LIMIT)))

    index_samples = [timed(lambda p=p: one(*p), 1)[0] for p in points]  # type: ignore[misc]

    rows: list[tuple[str, str]] = [("index alone", _figures(index_samples))]
    runs: dict[str, HttpFigures] = {}
    src = str(Path(__file__).parent.parent / "src")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        fill_s = fill_sqlite(url, items)
        factory = make_sessionmaker(make_engine(url))
        sql_samples = []
        with factory() as session:
            for lat, lon in points[: args.sql_queries]:
                query = FeedQuery(Circle(geo.Point(lat, lon), RADIUS_M), LIMIT)
                sql_samples.append(timed(lambda q=query: service.query_sql(session, q), 1)[0])
        if args.before:
            runs["before"] = bench_http(url, points[: args.http_queries], args.before, args.seconds)
        runs["this tree"] = bench_http(url, points[: args.http_queries], src, args.seconds)
    raw_rps, raw_wrk = bench_raw(args.seconds)

    for name, run in runs.items():
        rows.append((f"HTTP {name}, first request", _figures(run.first)))
        rows.append((f"HTTP {name}, again", _figures(run.again)))
    rows.append(("SQL fallback on SQLite", _figures(sql_samples)))

    print(f"\nnewest {LIMIT} within {RADIUS_M} m, {args.n:,} incidents, 60x60 km, 30 days")
    print(f"{'path':36} {'p50 µs':>9} {'p99 µs':>9} {'mean µs':>9}")
    for name, figures in rows:
        print(f"{name:36} {figures}")
    print("\nrequests per second at 64 connections, one worker (Python generator; wrk):")
    for name, run in runs.items():
        print(
            f"  {name:10} feed {run.feed_rps:8.0f}   /healthz {run.health_rps:8.0f}"
            f"   load {run.load:.2f}"
        )
        feed_wrk, health_wrk, load = run.wrk
        if feed_wrk is not None and health_wrk is not None:
            print(
                f"  {name:10} feed {feed_wrk:8.0f}   /healthz {health_wrk:8.0f}"
                f"   load {load:.2f}  (wrk)"
            )
    wrk_raw = f", wrk {raw_wrk:8.0f}" if raw_wrk is not None else ""
    print(f"  raw ASGI app on uvicorn (fixed JSON): {raw_rps:8.0f}{wrk_raw}")
    print(
        f"\nindex rebuild from memory: {rebuild_s:.2f} s; average results per query: "
        f"{statistics.fmean(touched):.1f}"
    )
    ready = ", ".join(f"{name} {run.ready_s:.1f} s" for name, run in runs.items())
    print(f"SQLite fill: {fill_s:.1f} s; server start to /readyz (index from SQLite): {ready}")
    print(f"load average at start {_load(load_at_start)}, at end {_load(os.getloadavg())}")


def _figures(samples: Sequence[float]) -> str:
    p50, p99, mean = percentiles(samples)
    return f"{p50:9.1f} {p99:9.1f} {mean:9.1f}"


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{a:.2f}" for a in averages)


if __name__ == "__main__":
    main()
