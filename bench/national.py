"""A day of national 911 volume, compressed, through two real nodes on PostgreSQL and NATS.

    .venv/bin/python bench/national.py [--compress 720] [--share 0.01] [--subs 100000]
        [--streams 200] [--hours 0-23] [--tick 0.25] [--postgres URL] [--nats URL]

The day: 240 M calls a year (657,534 a day, 7.6/s mean) spread over 48 metros in four time
zones by population, each metro following the diurnal curve `national_world.local_weight` (trough at
05:00 local, peak at 17:00, peak 10x the trough; see docs/scale.md for where that shape
comes from), so the national curve is the zones' sum. `--compress C` plays one simulated
hour in 3600/C real seconds; `--share S` keeps that fraction of the records (the offered
rate is 7.6 x C x S records/s on average). Each metro is its own agency and feed.

Two `townsquare serve` nodes share a new database `townsquare_bench_national` (dropped at
the end) and a NATS JetStream stream of their own. Before they start, `--subs` watch areas
(disks of res-8 H3 cells 1-4 rings wide, radius ~1.4-4 km, placed like the population) are
copied into the store. Once they run, five probe areas per metro (10 km, a webhook to a
local receiver, every severity at once) are made through the API; `--streams` SSE clients
per node watch 20 km around a metro, and one per node watches the whole country and notes
each incident's arrival. Records go through `ingest.service.ingest_items` in this process
(a `townsquare ingest` worker beside the nodes), open loop: a record is due at its place in
the day whatever happened before, and each round (`--tick` real seconds) ingests everything
due, one call per metro.

Per simulated hour (UTC): offered records/s (real, and the national rate it stands for),
due -> commit p50/p99, commit -> SSE on each node p50/p99 (every event crosses NATS: the
ingester is neither node), commit -> alert decision p50/p99 (the `created_at` of the first
delivery the probe areas got, written when the matching node began that batch), and whether
the ingester kept up (commit p99 <= 1 s) and the nodes did (SSE and decision p99 <= 2 s, every
incident seen on both; else "no" and how many went unseen). Prints the load average beside
the table. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import h3
import numpy as np
from alerts_e2e import Receiver
from alerts_server import percentile
from national_nodes import Streams, fresh_database, probe_areas, rss_mb, table_sizes, two_nodes
from national_world import METROS, Day, copy_subscriptions, make_day, source
from sqlalchemy import select

from townsquare.alerts.models import Delivery
from townsquare.db import make_engine, make_sessionmaker
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.sources.base import RawItem

# --- the replay --------------------------------------------------------------------------


def replay(day: Day, url: str, max_batch: int, tick: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Ingest each record when due (all due ones per tick, one call per metro).

    Returns the epoch time each record was due and committed, and the run's start (epoch).
    """
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    configs = [source(i) for i in range(len(METROS))]
    n = len(day.due)
    committed = np.zeros(n)
    start_perf, start_epoch = time.perf_counter(), time.time()
    done = 0
    while done < n:
        now = time.perf_counter() - start_perf
        if day.due[done] > now:
            time.sleep(day.due[done] - now)
            continue
        end = min(n, done + max_batch, int(np.searchsorted(day.due, now, side="right")))
        epoch_ms = str(int(time.time() * 1000))
        by_metro: dict[int, list[int]] = defaultdict(list)
        for k in range(done, end):
            by_metro[int(day.metro[k])].append(k)
        for metro, ks in by_metro.items():
            items = [
                RawItem(
                    f"line {k}",
                    {
                        "id": f"N{k:09d}",
                        "type": "Structure Fire" if day.fire[k] else "Motor Vehicle Accident",
                        "epoch_ms": epoch_ms,
                        "address": f"{100 + k % 9000} Main St",
                        "lat": f"{day.lat[k]:.6f}",
                        "lon": f"{day.lon[k]:.6f}",
                    },
                )
                for k in ks
            ]
            service.ingest_items(factory, configs[metro], items)
            committed[ks] = time.time()
        done = end
        rest = tick - (time.perf_counter() - start_perf - now)
        if rest > 0:
            time.sleep(rest)  # feeds arrive in rounds: a push or a poll carries several records
    engine.dispose()
    return start_epoch + day.due, committed, start_epoch


def decisions(url: str) -> tuple[dict[int, int], dict[int, float]]:
    """Record number -> incident id, and incident id -> first delivery decided (epoch s)."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        ids = {
            int(e[1:]): i
            for e, i in session.execute(select(Incident.external_id, Incident.id))
            if e and e.startswith("N")
        }
        decided: dict[int, float] = {}
        for incident, created in session.execute(select(Delivery.incident_id, Delivery.created_at)):
            if incident is not None:
                t = created.timestamp()
                decided[incident] = min(decided.get(incident, t), t)
    engine.dispose()
    return ids, decided


# --- the table ---------------------------------------------------------------------------


def table(
    day: Day,
    due: np.ndarray,
    committed: np.ndarray,
    ids: dict[int, int],
    arrived: list[dict[int, float]],
    decided: dict[int, float],
    compress: float,
    share: float,
) -> None:
    """One row per simulated hour (UTC)."""
    header = (
        f"{'UTC h':>5} {'offered/s':>9} {'nation/s':>8} {'commit ms p50/p99':>18} "
        f"{'SSE node1 ms p50/p99':>21} {'SSE node2 ms p50/p99':>21} "
        f"{'decision ms p50/p99':>20} {'ingest':>6} {'nodes':>6}"
    )
    print(header)
    hour_real = 3600 / compress
    for hour in sorted(set(day.sim_hour.tolist())):
        ks = np.flatnonzero(day.sim_hour == hour)
        commit = (committed[ks] - due[ks]).tolist()
        sse = [_lags(ks, ids, arrived[node], committed) for node in (0, 1)]
        fire = ks[day.fire[ks]]
        decision = _lags(fire, ids, decided, committed)
        missing = sum(len(ks) - len(s) for s in sse)
        ingest_ok = percentile(commit, 99) <= 1.0
        nodes_ok = missing == 0 and all(
            lags and percentile(lags, 99) <= 2.0 for lags in (*sse, decision)
        )
        print(
            f"{hour:>5} {len(ks) / hour_real:>9.1f} {len(ks) / share / 3600:>8.1f} "
            f"{_ms(commit):>18} {_ms(sse[0]):>21} {_ms(sse[1]):>21} {_ms(decision):>20} "
            f"{'yes' if ingest_ok else 'no':>6} {'yes' if nodes_ok else f'no {missing}':>6}"
        )


def _lags(
    ks: np.ndarray, ids: dict[int, int], at: dict[int, float], committed: np.ndarray
) -> list[float]:
    out = []
    for k in ks.tolist():
        incident = ids.get(k)
        if incident is not None and incident in at:
            out.append(at[incident] - committed[k])
    return out


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50) * 1e3:,.0f} / {percentile(values, 99) * 1e3:,.0f}"


def _hours(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    """Set up, replay, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compress", type=float, default=720.0, help="simulated s per real s")
    parser.add_argument("--share", type=float, default=0.01, help="fraction of records kept")
    parser.add_argument("--subs", type=int, default=100_000, help="watch areas in the store")
    parser.add_argument("--streams", type=int, default=200, help="SSE clients per node")
    parser.add_argument("--hours", default="0-23", help="simulated UTC hours, e.g. 20-23")
    parser.add_argument("--batch", type=int, default=5000, help="most records per round")
    parser.add_argument("--tick", type=float, default=0.25, help="real s between ingest rounds")
    parser.add_argument("--postgres", default=os.environ.get("TOWNSQUARE_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--nats", default=os.environ.get("TOWNSQUARE_TEST_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    if not args.postgres:
        parser.error("--postgres URL (or TOWNSQUARE_TEST_POSTGRES_URL) is needed")
    rng = np.random.default_rng(args.seed)
    hours = _hours(args.hours)
    day = make_day(args.compress, args.share, hours, rng)
    cells = {
        h3.latlng_to_cell(float(a), float(b), 3)
        for a, b in zip(day.lat[:20000], day.lon[:20000], strict=True)
    }
    print(
        f"day: {len(day.due):,} records in simulated UTC hours {hours.start}-{hours.stop - 1}, "
        f"{len(METROS)} agencies, {len(cells)} H3 res-3 cells; compress {args.compress:g} "
        f"(1 simulated hour = {3600 / args.compress:.1f} s), share {args.share:g}"
    )
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(fresh_database(args.postgres))
        t0 = time.perf_counter()
        engine = make_engine(url)
        area_cells = copy_subscriptions(engine, args.subs, rng)
        engine.dispose()
        print(
            f"watch areas: {args.subs:,} ({area_cells:,} cells) copied in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        t0 = time.perf_counter()
        nodes = stack.enter_context(two_nodes(folder, url, args.nats))
        bases = [base for base, _ in nodes]
        print(
            f"two nodes ready in {time.perf_counter() - t0:.0f} s (index built from the store);"
            " resident MB " + " / ".join(f"{rss_mb(pid):.0f}" for _, pid in nodes)
        )
        receiver = Receiver()
        stack.callback(receiver.http.shutdown)
        probe_areas(bases[0], receiver.url)
        streams = Streams(bases, args.streams, args.seed)
        time.sleep(2)  # the probe areas reach both nodes' indexes through the bus
        load_before = os.getloadavg()
        started = time.perf_counter()
        due, committed, _ = replay(day, url, args.batch, args.tick)
        took = time.perf_counter() - started
        load_after = os.getloadavg()
        ids, _ = decisions(url)
        arrived = streams.collect(set(ids.values()), 60)
        _, decided = decisions(url)
        memory = " / ".join(f"{rss_mb(pid):.0f}" for _, pid in nodes)
        sizes = table_sizes(url)
    print(
        f"replayed in {took:.0f} s (schedule {day.due[-1]:.0f} s); incidents stored {len(ids):,}; "
        f"SSE clients {2 * (args.streams + 1)}"
    )
    print(f"nodes' resident MB at the end: {memory}")
    for name, rows, size in sizes:
        per = f"{size / rows:,.0f} B/row" if rows else "-"
        print(f"  {name:<15} {rows:>9,} rows {size / 1e6:>8.1f} MB  {per}")
    table(day, due, committed, ids, arrived, decided, args.compress, args.share)
    print(
        "load average before / after the replay: "
        + " / ".join(" ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    )


if __name__ == "__main__":
    main()
