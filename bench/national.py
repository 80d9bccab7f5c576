"""A day of national 911 volume, compressed, through two real nodes on PostgreSQL and NATS.

    .venv/bin/python bench/national.py [--compress 720] [--share 0.01] [--subs 100000]
        [--streams 200] [--hours 0-23] [--tick 0.25] [--postgres URL] [--nats URL]

The day: 240 M calls a year (657,534 a day, 7.6/s mean) spread over 48 metros in four time
zones by population, each metro following the diurnal curve of `local_weight` (trough at
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
import asyncio
import json
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import h3
import httpx
import numpy as np
from alerts_e2e import Receiver
from alerts_server import free_port, percentile
from sqlalchemy import Engine, make_url, select

from townsquare.alerts.models import Delivery
from townsquare.db import make_engine, make_sessionmaker
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem
from townsquare.migrations import runner

CALLS_PER_YEAR = 240_000_000
CALLS_PER_DAY = CALLS_PER_YEAR / 365
DATABASE = "townsquare_bench_national"
NATION = "-125,24,-66,50"  # west,south,east,north: the lower 48
PEAK_TO_TROUGH = 10.0
FIRE_SHARE = 0.1  # structure fires (alertable); the rest are traffic collisions

# Metro, lat, lon, UTC offset in standard time (hours), population (millions, 2020 MSAs).
METROS = [
    ("new-york", 40.71, -74.01, -5, 20.1), ("los-angeles", 34.05, -118.24, -8, 13.2),
    ("chicago", 41.88, -87.63, -6, 9.6), ("dallas", 32.78, -96.80, -6, 7.6),
    ("houston", 29.76, -95.37, -6, 7.1), ("washington", 38.91, -77.04, -5, 6.4),
    ("philadelphia", 39.95, -75.17, -5, 6.2), ("miami", 25.76, -80.19, -5, 6.1),
    ("atlanta", 33.75, -84.39, -5, 6.1), ("boston", 42.36, -71.06, -5, 4.9),
    ("phoenix", 33.45, -112.07, -7, 4.8), ("san-francisco", 37.77, -122.42, -8, 4.7),
    ("riverside", 33.95, -117.40, -8, 4.6), ("detroit", 42.33, -83.05, -5, 4.4),
    ("seattle", 47.61, -122.33, -8, 4.0), ("minneapolis", 44.98, -93.27, -6, 3.7),
    ("san-diego", 32.72, -117.16, -8, 3.3), ("tampa", 27.95, -82.46, -5, 3.2),
    ("denver", 39.74, -104.99, -7, 3.0), ("baltimore", 39.29, -76.61, -5, 2.8),
    ("st-louis", 38.63, -90.20, -6, 2.8), ("orlando", 28.54, -81.38, -5, 2.7),
    ("charlotte", 35.23, -80.84, -5, 2.7), ("san-antonio", 29.42, -98.49, -6, 2.6),
    ("portland", 45.52, -122.68, -8, 2.5), ("sacramento", 38.58, -121.49, -8, 2.4),
    ("pittsburgh", 40.44, -80.00, -5, 2.4), ("austin", 30.27, -97.74, -6, 2.3),
    ("las-vegas", 36.17, -115.14, -8, 2.3), ("cincinnati", 39.10, -84.51, -5, 2.3),
    ("kansas-city", 39.10, -94.58, -6, 2.2), ("columbus", 39.96, -83.00, -5, 2.1),
    ("indianapolis", 39.77, -86.16, -5, 2.1), ("cleveland", 41.50, -81.69, -5, 2.1),
    ("san-jose", 37.34, -121.89, -8, 2.0), ("nashville", 36.16, -86.78, -6, 2.0),
    ("virginia-beach", 36.85, -75.98, -5, 1.8), ("providence", 41.82, -71.41, -5, 1.7),
    ("jacksonville", 30.33, -81.66, -5, 1.6), ("milwaukee", 43.04, -87.91, -6, 1.6),
    ("raleigh", 35.78, -78.64, -5, 1.4), ("oklahoma-city", 35.47, -97.52, -6, 1.4),
    ("memphis", 35.15, -90.05, -6, 1.3), ("richmond", 37.54, -77.44, -5, 1.3),
    ("louisville", 38.25, -85.76, -5, 1.3), ("salt-lake-city", 40.76, -111.89, -7, 1.3),
    ("albuquerque", 35.08, -106.65, -7, 0.9), ("boise", 43.62, -116.21, -7, 0.8),
]  # fmt: skip


def local_weight(local_hour: np.ndarray | float) -> np.ndarray | float:
    """The diurnal curve: mean 1, trough 05:00, peak 17:00, peak/trough = PEAK_TO_TROUGH."""
    a = (PEAK_TO_TROUGH - 1) / (PEAK_TO_TROUGH + 1)
    return 1 + a * np.cos(2 * np.pi * (np.asarray(local_hour) - 17) / 24)


@dataclass
class Day:
    """The records of the day, in due order: due (real s from start), metro, point, fire."""

    due: np.ndarray
    metro: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    fire: np.ndarray
    sim_hour: np.ndarray  # UTC hour of the simulated day


def make_day(compress: float, share: float, hours: range, rng: np.random.Generator) -> Day:
    """Poisson arrivals per metro and simulated minute, the metro's local curve as the rate."""
    pops = np.array([m[4] for m in METROS])
    daily = CALLS_PER_DAY * share * pops / pops.sum()
    minutes = np.arange(hours.start * 60, hours.stop * 60)
    offsets = np.array([m[3] for m in METROS])
    local = (minutes[None, :] / 60 + offsets[:, None]) % 24
    counts = rng.poisson(daily[:, None] * local_weight(local) / 1440)
    metro = np.repeat(np.repeat(np.arange(len(METROS)), len(minutes)), counts.ravel())
    minute = np.repeat(np.tile(minutes, len(METROS)), counts.ravel())
    sim_s = (minute + rng.random(len(minute))) * 60 - hours.start * 3600
    order = np.argsort(sim_s, kind="stable")
    metro, sim_s = metro[order], sim_s[order]
    lat0 = np.array([m[1] for m in METROS])[metro]
    lon0 = np.array([m[2] for m in METROS])[metro]
    sigma = 12_000 / 111_320  # 12 km around the centre
    lat = lat0 + rng.normal(0, sigma, len(metro))
    lon = lon0 + rng.normal(0, sigma, len(metro)) / np.cos(np.radians(lat0))
    return Day(
        due=sim_s / compress,
        metro=metro,
        lat=lat,
        lon=lon,
        fire=rng.random(len(metro)) < FIRE_SHARE,
        sim_hour=(hours.start + sim_s // 3600).astype(int),
    )


def source(metro: int) -> SourceConfig:
    """The metro's dispatch feed, its own agency."""
    name, tz = METROS[metro][0], {-5: "America/New_York", -6: "America/Chicago"}
    zone = tz.get(
        METROS[metro][3], {-7: "America/Denver"}.get(METROS[metro][3], "America/Los_Angeles")
    )
    return SourceConfig.model_validate(
        {
            "slug": f"n-{name}",
            "name": f"{name} dispatch",
            "kind": "csv",
            "location": "unused.csv",
            "agency": {"slug": f"n-{name}", "name": f"{name} fire", "time_zone": zone},
            "fields": {
                "external_id": "id",
                "call_type": "type",
                "address": "address",
                "latitude": "lat",
                "longitude": "lon",
                "occurred_at": {"column": "epoch_ms", "formats": ["epoch_ms"]},
            },
            "categories": {
                "Structure Fire": "fire.structure",
                "Motor Vehicle Accident": "traffic.collision",
            },
        }
    )


# --- the store ---------------------------------------------------------------------------


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """`townsquare_bench_national` on the server, new and migrated; dropped at the end."""
    admin = make_engine(server_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.dispose()


def copy_subscriptions(engine: Engine, n: int, rng: np.random.Generator) -> int:
    """`n` watch areas (res-8 disks placed like the population) copied in; how many cells."""
    pops = np.array([m[4] for m in METROS])
    metro = rng.choice(len(METROS), n, p=pops / pops.sum())
    sigma = 15_000 / 111_320
    lat = np.array([m[1] for m in METROS])[metro] + rng.normal(0, sigma, n)
    lon = np.array([m[2] for m in METROS])[metro] + rng.normal(0, sigma, n) / 0.77
    rings = rng.integers(1, 5, n)
    now = datetime.now(UTC)
    cells = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY alert_subscription (id, manage_token_hash, name, cover_key, categories,"
            " min_severity, urgent_severity, time_zone, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                row = (i + 1, secrets.token_hex(32), "", secrets.token_hex(32), "[]", 1, 4)
                copy.write_row((*row, "UTC", now, now))
        with cursor.copy("COPY alert_cell (subscription_id, cell) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(n):
                centre = h3.latlng_to_cell(float(lat[i]), float(lon[i]), 8)
                for cell in h3.grid_disk(centre, int(rings[i])):
                    copy.write_row((i + 1, h3.str_to_int(cell)))
                    cells += 1
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('alert_subscription', 'id'), {n})")
        raw.commit()
    finally:
        raw.close()
    return cells


# --- the nodes ---------------------------------------------------------------------------


@contextmanager
def two_nodes(folder: Path, url: str, nats: str) -> Iterator[list[tuple[str, int]]]:
    """Two `townsquare serve` processes on the database and a NATS stream of their own."""
    stream = f"NATIONAL_{uuid.uuid4().hex[:8].upper()}"
    common = {
        "TOWNSQUARE_DATABASE_URL": url,
        "TOWNSQUARE_BUS_URL": nats,
        "TOWNSQUARE_BUS_STREAM": stream,
        "TOWNSQUARE_SECRET_KEY": secrets.token_urlsafe(32),
        "TOWNSQUARE_RELAY_INTERVAL_S": "0.05",
        "TOWNSQUARE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TOWNSQUARE_ALERT_RATE_PER_HOUR": "1000000",
        "TOWNSQUARE_STREAM_MAX_PER_ADDRESS": "100000",
        "TOWNSQUARE_MEDIA_STORAGE": "database",
        "TOWNSQUARE_ANONYMOUS_WRITES_PER_HOUR": "100000",
        "TOWNSQUARE_LOG_LEVEL": "WARNING",
    }
    processes, bases = [], []
    try:
        for name in ("one", "two"):
            port = free_port()
            (folder / name).mkdir()
            env = {**os.environ, **common, "TOWNSQUARE_DATA_DIR": str(folder / name)}
            with (folder / f"{name}.log").open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "townsquare.cli", "serve", "--port", str(port)],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            bases.append(f"http://127.0.0.1:{port}")
        for base, process, name in zip(bases, processes, ("one", "two"), strict=True):
            _wait_ready(base, process, folder / f"{name}.log")
        yield [(base, process.pid) for base, process in zip(bases, processes, strict=True)]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _delete_stream(nats, stream)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 300  # 100k areas are read into the index first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} not ready after 300 s")


def _delete_stream(nats_url: str, stream: str) -> None:
    import nats  # the bus's own client

    async def delete() -> None:
        connection = await nats.connect(nats_url)
        try:
            await connection.jetstream().delete_stream(stream)
        finally:
            await connection.close()

    try:
        asyncio.run(delete())
    except Exception as error:
        print(f"(stream {stream} not deleted: {error})", file=sys.stderr)


def probe_areas(base: str, receiver_url: str) -> int:
    """Five 10 km areas per metro with a webhook, every severity at once: decisions to time."""
    made = 0
    for _, lat, lon, _, _ in METROS:
        step = 14_000 / 111_320
        for dlat, dlon in ((0, 0), (step, 0), (-step, 0), (0, step / 0.77), (0, -step / 0.77)):
            answer = httpx.post(
                f"{base}/api/v1/subscriptions",
                json={
                    "area": {
                        "type": "circle",
                        "lat": lat + dlat,
                        "lon": lon + dlon,
                        "radius_m": 10_000,
                    },
                    "urgent_severity": 1,
                    "channels": [{"kind": "webhook", "url": receiver_url}],
                },
                timeout=30,
            )
            if answer.status_code >= 300:
                raise RuntimeError(f"probe area refused: {answer.text}")
            made += 1
    return made


def rss_mb(pid: int) -> float:
    """A process's resident set in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


TABLES = ("incident", "raw_record", "source_record", "outbox", "alert_delivery", "alert_cell")


def table_sizes(url: str) -> list[tuple[str, int, int]]:
    """(table, rows, bytes with its indexes and TOAST) of the tables that grow."""
    engine = make_engine(url)
    with engine.connect() as connection:
        out = []
        for name in TABLES:
            rows = connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
            size = connection.exec_driver_sql(
                f"SELECT pg_total_relation_size('{name}')"
            ).scalar_one()
            out.append((name, int(rows), int(size)))
    engine.dispose()
    return out


# --- the live streams --------------------------------------------------------------------


class Streams:
    """SSE clients on both nodes, in a process of their own (so the ingester's CPU does not
    delay their clocks); the arrival time (epoch s) of each incident at each node."""

    def __init__(self, bases: list[str], per_node: int, seed: int) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_stream_process, args=(bases, per_node, seed, child), daemon=True
        )
        self.process.start()
        if not self.conn.poll(180) or self.conn.recv() != "ready":
            raise RuntimeError("the live streams did not all connect")

    def collect(self, incidents: set[int], deadline_s: float) -> list[dict[int, float]]:
        """Wait (bounded) until both nodes' national streams have `incidents`; the arrivals."""
        self.conn.send((incidents, deadline_s))
        arrived: list[dict[int, float]] = self.conn.recv()
        self.process.join(10)
        return arrived


def _stream_process(bases: list[str], per_node: int, seed: int, conn: Connection) -> None:
    arrived: list[dict[int, float]] = [{} for _ in bases]
    rng = random.Random(seed)

    async def national(node: int, host: str, port: int, ready: asyncio.Queue[None]) -> None:
        reader, writer = await _open(host, port, f"/api/v1/stream?bbox={NATION}")
        ready.put_nowait(None)
        event = ""
        while line := await reader.readline():
            if line.startswith(b"event: "):
                event = line[7:].strip().decode()
            elif line.startswith(b"data: ") and event == "incident.published":
                found = json.loads(line[6:]).get("id")
                if found is not None:
                    arrived[node].setdefault(int(found), time.time())
        writer.close()

    async def local(host: str, port: int, path: str, ready: asyncio.Queue[None]) -> None:
        reader, writer = await _open(host, port, path)
        ready.put_nowait(None)
        while await reader.read(65536):
            pass
        writer.close()

    async def main() -> None:
        ready: asyncio.Queue[None] = asyncio.Queue()
        tasks = []
        for node, base in enumerate(bases):
            host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
            tasks.append(asyncio.create_task(national(node, host, port, ready)))
            for _ in range(per_node):
                _, lat, lon, _, _ = rng.choices(METROS, weights=[m[4] for m in METROS])[0]
                path = f"/api/v1/stream?lat={lat:.4f}&lon={lon:.4f}&radius_m=20000"
                tasks.append(asyncio.create_task(local(host, port, path, ready)))
        for _ in tasks:
            await ready.get()
        conn.send("ready")
        while not conn.poll():
            await asyncio.sleep(0.2)
        incidents, deadline_s = conn.recv()
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline and not all(incidents <= set(a) for a in arrived):
            await asyncio.sleep(0.2)
        conn.send(arrived)
        for task in tasks:
            task.cancel()

    asyncio.run(main())


async def _open(
    host: str, port: int, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    while not (await reader.readline()).startswith(b"event: ready"):
        pass
    return reader, writer


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
