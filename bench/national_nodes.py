"""The running side of `bench/national.py`: its database, two `townsquare serve` nodes on
PostgreSQL and NATS, probe areas, and the live-stream clients in a process of their own."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from alerts_server import free_port
from national_world import METROS
from sqlalchemy import make_url

from townsquare.db import make_engine
from townsquare.migrations import runner

DATABASE = "townsquare_bench_national"
NATION = "-125,24,-66,50"  # west,south,east,north: the lower 48


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
