"""Storing normalized records: records/s through `service.ingest_items`, before and after.

Two workloads of CAD records, each stored on an empty SQLite (WAL) store and, if
TOWNSQUARE_BENCH_POSTGRES_URL names a scratch database (its public schema is dropped), on
PostgreSQL; each through this tree's code and through a peer tree's (`--peer SRC`, if given),
one after the other in the same run, in subprocesses:

- "log": a dispatch log read in pages: new calls of 1-3 units (the units of a call merge into
  one incident), about 5% at the address of a call a few minutes earlier (a scene: merged
  into its incident), 15% newer versions of calls already stored (type changed, or cleared);
- "snapshot": an "active calls" source fetched every 5 minutes: each fetch holds every open
  call (most unchanged, some re-versioned, new ones), calls missing from it are closed.

Every record goes through the real lifecycle: raw record, source record versions, merges,
snapshot closes, incident with its public form, outbox events. Records/s counts every record
received (already-stored ones included: a snapshot applies them too) per wall second.

    .venv/bin/python bench/store.py [--records 100000] [--peer ../before/src]

Measured 2026-12-08 (2 cores shared with other jobs, load 6-14: figures are noisy), 50k
records, peer = main a099254 -> this tree, records/s: log SQLite 156 -> 866, PostgreSQL 129 ->
186; snapshot SQLite 268 -> 475, PostgreSQL 211 -> 308. Again with 20k records at load
1.2-4.7: log SQLite 1,236 -> 1,423, PostgreSQL 337 -> 899; snapshot SQLite 962 -> 1,366,
PostgreSQL 587 -> 801. The log workload's `now` runs ahead
of its calls' times, so most of its incidents are not timely and announce nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TYPES = {
    "Motor Vehicle Accident": "traffic.collision",
    "Aid Response": "medical",
    "Structure Fire": "fire.structure",
    "Fire Alarm": "fire.alarm",
    "Burglary": "crime.burglary",
    "Brush Fire": "fire.outside",
}
STREETS = ["Pine St", "Pike St", "1st Ave", "Broadway", "Rainier Ave S", "Aurora Ave N"]
START = datetime(2026, 1, 1, tzinfo=UTC)
SNAPSHOT_SIZE = 5000
"""Records in one fetch of the active-calls source (its calls' units)."""


def source_config(snapshot: bool) -> dict[str, Any]:
    """The source declaration of a workload (validated by the tree under test)."""
    lifecycle: dict[str, Any] = {
        "version": "version_ms",
        "status": "status",
        "closed_values": ["CLOSED"],
        "scene": ["address"],
        "scene_minutes": 30,
    }
    if snapshot:
        lifecycle["snapshot"] = True
        lifecycle["max_close_share"] = 1.0
    return {
        "slug": "bench-snapshot" if snapshot else "bench-log",
        "name": "Benchmark feed",
        "kind": "csv",
        "location": "unused.csv",
        "agency": {"slug": "bench", "name": "Bench Fire", "time_zone": "America/Los_Angeles"},
        "fields": {
            "external_id": "id",
            "unit": "unit",
            "call_type": "type",
            "address": "address",
            "latitude": "lat",
            "longitude": "lon",
            "occurred_at": {"column": "epoch_ms", "formats": ["epoch_ms"]},
        },
        "lifecycle": lifecycle,
        "categories": TYPES,
    }


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class Calls:
    """Synthetic calls around Seattle; each call yields one row per responding unit."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.recent: list[dict[str, str]] = []

    def new(self, at: datetime) -> list[dict[str, str]]:
        """The rows of a new call: 1-3 units; 5% at a recent call's address (one scene)."""
        rng = self.rng
        self.count += 1
        if self.recent and rng.random() < 0.05:
            near = rng.choice(self.recent)
            address, lat, lon = near["address"], near["lat"], near["lon"]
        else:
            address = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
            lat = f"{47.5 + rng.random() * 0.2:.6f}"
            lon = f"{-122.4 + rng.random() * 0.15:.6f}"
        base = {
            "id": f"F{self.count:09d}",
            "type": rng.choice(list(TYPES)),
            "epoch_ms": _ms(at),
            "version_ms": _ms(at),
            "status": "OPEN",
            "address": address,
            "lat": lat,
            "lon": lon,
        }
        rows = [{**base, "unit": f"E{rng.randint(1, 60)}-{n}"} for n in range(rng.randint(1, 3))]
        self.recent = [*self.recent[-49:], base]
        return rows

    def revised(self, rows: list[dict[str, str]], at: datetime) -> list[dict[str, str]]:
        """A newer version of a call's rows: its type changed, or (a third) cleared."""
        change: dict[str, str] = {"version_ms": _ms(at)}
        if self.rng.random() < 0.33:
            change["status"] = "CLOSED"
        else:
            change["type"] = self.rng.choice(list(TYPES))
        return [{**row, **change} for row in rows]


def log_workload(records: int, seed: int = 1) -> Iterator[dict[str, str]]:
    """A dispatch log: new calls, with 15% of rows newer versions of earlier calls."""
    calls = Calls(seed)
    stored: list[list[dict[str, str]]] = []
    sent = 0
    moment = START
    while sent < records:
        moment += timedelta(seconds=20)
        if stored and calls.rng.random() < 0.15:
            rows = calls.revised(calls.rng.choice(stored[-500:]), moment)
        else:
            rows = calls.new(moment)
            stored.append(rows)
        yield from rows
        sent += len(rows)


def snapshot_workload(records: int, seed: int = 2) -> Iterator[tuple[datetime, list[Any]]]:
    """Fetches of active calls every 5 minutes: (fetch time, rows), `records` rows in all."""
    calls = Calls(seed)
    open_calls: dict[str, list[dict[str, str]]] = {}
    sent = 0
    moment = START
    while sent < records:
        moment += timedelta(minutes=5)
        rng = calls.rng
        for key in [k for k in open_calls if rng.random() < 0.12]:  # closed: left the feed
            del open_calls[key]
        for key in [k for k in open_calls if rng.random() < 0.10]:
            revised = calls.revised(open_calls[key], moment)
            if revised[0]["status"] == "CLOSED":
                revised = [{**row, "status": "OPEN"} for row in revised]
            open_calls[key] = revised
        held = sum(len(rows) for rows in open_calls.values())
        while held < SNAPSHOT_SIZE:
            rows = calls.new(moment - timedelta(seconds=rng.randint(0, 299)))
            open_calls[rows[0]["id"]] = rows
            held += len(rows)
        fetched = [row for rows in open_calls.values() for row in rows]
        sent += len(fetched)
        yield moment, fetched


def measure(url: str, workload: str, records: int) -> dict[str, Any]:
    """Store the workload on an empty store at `url` (in this process): records/s."""
    from sqlalchemy import text

    from townsquare.db import make_engine, make_sessionmaker
    from townsquare.ingest import service
    from townsquare.ingest.config import SourceConfig
    from townsquare.ingest.sources.base import RawItem
    from townsquare.migrations import runner

    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    runner.upgrade(engine)
    factory = make_sessionmaker(engine)
    config = SourceConfig.model_validate(source_config(workload == "snapshot"))
    if workload == "snapshot":
        fetches = [
            (at, [RawItem(f"row {n}", row) for n, row in enumerate(rows)])
            for at, rows in snapshot_workload(records)
        ]
    else:
        rows = list(log_workload(records))
        fetches = [
            (START + timedelta(days=1, minutes=n), items)
            for n, items in enumerate(
                [RawItem(f"row {m}", row) for m, row in enumerate(rows[i : i + 5000], i)]
                for i in range(0, len(rows), 5000)
            )
        ]
    totals: dict[str, int] = {}
    started = time.perf_counter()
    for at, items in fetches:
        report = service.ingest_items(factory, config, iter(items), now=at)
        for name in ("received", "created", "updated", "merged", "unchanged", "closed"):
            totals[name] = totals.get(name, 0) + getattr(report, name)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        for table in ("incident", "source_record", "raw_record", "outbox"):
            totals[table] = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return {"rate": totals["received"] / seconds, "seconds": seconds, **totals}


def run(src: str, url: str, workload: str, records: int) -> dict[str, Any]:
    """`measure` in a subprocess importing townsquare from `src`."""
    env = {**os.environ, "PYTHONPATH": src}
    command = [sys.executable, __file__, "--worker", workload, "--url", url]
    command += ["--records", str(records)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{src} {workload} on {url}:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    """Each workload on each store, peer tree then this tree; print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--peer", help="The source tree to compare with (its src folder).")
    parser.add_argument("--worker", choices=["log", "snapshot"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["log", "snapshot"])
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.url, args.worker, args.records)))
        return
    here = str(Path(__file__).resolve().parent.parent / "src")
    trees = [("peer", args.peer)] if args.peer and not args.skip_peer else []
    trees.append(("this tree", here))
    print(f"load average at start: {os.getloadavg()}")
    head = f"{'workload':<9} {'store':<11} {'tree':<10} {'records':>8} {'rec/s':>8}"
    print(f"{head} {'created':>8} {'merged':>7} {'updated':>8} {'closed':>7} {'outbox':>7} load")
    with tempfile.TemporaryDirectory() as folder:
        stores = [("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}")]
        postgres = os.environ.get("TOWNSQUARE_BENCH_POSTGRES_URL")
        if postgres:
            stores.append(("PostgreSQL", postgres))
        for workload in [args.only] if args.only else ["log", "snapshot"]:
            for store, url in stores:
                for tree, src in trees:
                    if url.startswith("sqlite"):
                        for suffix in ("", "-wal", "-shm"):
                            Path(folder, "bench.db" + suffix).unlink(missing_ok=True)
                    r = run(src, url, workload, args.records)
                    load = f"{os.getloadavg()[0]:.2f}"
                    print(
                        f"{workload:<9} {store:<11} {tree:<10} {r['received']:>8,} "
                        f"{r['rate']:>8,.0f} {r['created']:>8,} {r['merged']:>7,} "
                        f"{r['updated']:>8,} {r['closed']:>7,} {r['outbox']:>7,} {load}",
                        flush=True,
                    )
    if not os.environ.get("TOWNSQUARE_BENCH_POSTGRES_URL"):
        print("(set TOWNSQUARE_BENCH_POSTGRES_URL to a scratch database to measure PostgreSQL)")


if __name__ == "__main__":
    main()
