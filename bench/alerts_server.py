"""Shared by the live benchmarks: a real `townsquare serve` process and records ingested for it.

Not a benchmark itself. The server runs on a migrated SQLite file with the in-process bus;
records go through `ingest.service.ingest_items` against the same file, and the server's
outbox relay picks them up, as it does for a feed read by another process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import make_url

from townsquare.db import make_engine, make_sessionmaker
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem
from townsquare.migrations import runner

HOME = (47.61, -122.33)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(folder: Path, postgres: str | None = None, **extra: str) -> Iterator[tuple[str, str]]:
    """`townsquare serve` on a fresh migrated store; yields (base URL, database URL).

    SQLite under `folder` by default; with `postgres` (a server URL), a new database on that
    server, dropped at the end.
    """
    with fresh_database(folder, postgres) as url:
        yield from _serve(folder, url, extra)


@contextmanager
def fresh_database(folder: Path, postgres: str | None) -> Iterator[str]:
    """A new, empty store: a SQLite file, or a PostgreSQL database made for this run."""
    if postgres is None:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    admin = make_url(postgres)
    name = f"townsquare_bench_{os.getpid()}"
    engine = make_engine(admin.render_as_string(hide_password=False))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def _serve(folder: Path, url: str, extra: dict[str, str]) -> Iterator[tuple[str, str]]:
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "TOWNSQUARE_DATABASE_URL": url,
        "TOWNSQUARE_DATA_DIR": str(folder),
        "TOWNSQUARE_RELAY_INTERVAL_S": "0.01",
        "TOWNSQUARE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TOWNSQUARE_ALERT_RATE_PER_HOUR": "1000000",
        "TOWNSQUARE_LOG_LEVEL": "WARNING",
        **extra,
    }
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "townsquare.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, folder / "server.log")
        yield base, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server not ready after 60 s")


def source() -> SourceConfig:
    """A dispatch feed whose structure fires are alertable."""
    return SourceConfig.model_validate(
        {
            "slug": "bench-dispatch",
            "name": "Benchmark dispatch",
            "kind": "csv",
            "location": "unused.csv",
            "agency": {"slug": "bench", "name": "Bench Fire", "time_zone": "America/Los_Angeles"},
            "fields": {
                "external_id": "id",
                "call_type": "type",
                "address": "address",
                "latitude": "lat",
                "longitude": "lon",
                "occurred_at": {"column": "epoch_ms", "formats": ["epoch_ms"]},
            },
            "categories": {"Structure Fire": "fire.structure"},
        }
    )


class Ingester:
    """Ingests one dispatch record at a time through the real ingest path."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.factory = make_sessionmaker(self.engine)
        self.config = source()

    def record(self, n: int, lat: float = HOME[0], lon: float = HOME[1]) -> None:
        """Ingest record number `n` (a structure fire at the point, happening now)."""
        self.records([(n, lat, lon)])

    def records(self, points: list[tuple[int, float, float]]) -> None:
        """Ingest records (number, lat, lon) in one call, as one pushed body carrying them."""
        epoch_ms = str(int(datetime.now(UTC).timestamp() * 1000))
        items = [
            RawItem(
                f"line {n}",
                {
                    "id": external_id(n),
                    "type": "Structure Fire",
                    "epoch_ms": epoch_ms,
                    "address": f"{100 + n} Pine St",
                    "lat": f"{lat:.6f}",
                    "lon": f"{lon:.6f}",
                },
            )
            for n, lat, lon in points
        ]
        service.ingest_items(self.factory, self.config, items)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def external_id(n: int) -> str:
    """The dispatch id of record number `n`."""
    return f"B{n:09d}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
