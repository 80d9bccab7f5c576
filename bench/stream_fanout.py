"""Live-stream fan-out: time until every one of N SSE connections has a new incident.

    .venv/bin/python bench/stream_fanout.py [--clients 5000] [--events 20]

Starts a real `townsquare serve` process (SQLite, in-process bus), opens N concurrent
`GET /api/v1/stream?lat=&lon=&radius_m=` connections on raw asyncio sockets (lighter than an
HTTP client, so the clients' own cost stays small), then ingests one dispatch record at a time
through the ingest service. For each event: the time from the record's commit until the last
connection has it (the aim is p99 <= 100 ms at 5,000). The clients share one process and core
with nothing else, but their reading time is part of the figure, so they read as little as
they can: on uvloop when it is installed, one read per event rather than a readline per
line. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alerts_server import HOME, Ingester, percentile, server

EVENT = b"event: incident.published"


class Clients:
    """Arrival times of each published event, per connection."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.ready = 0
        self.arrivals: list[list[float]] = []
        self.all_ready = asyncio.Event()

    def arrived(self, nth: int) -> None:
        """Note that one connection has its `nth` published event."""
        while len(self.arrivals) <= nth:
            self.arrivals.append([])
        self.arrivals[nth].append(time.perf_counter())


async def listen(
    clients: Clients, gate: asyncio.Semaphore, host: str, port: int, path: str
) -> None:
    """One SSE connection: connect (a few hundred at a time), then note each published event."""
    async with gate:
        reader, writer = await asyncio.open_connection(host, port)
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
        writer.write(request.encode())
        while not (await reader.readline()).startswith(b"event: ready"):
            pass
    clients.ready += 1
    if clients.ready == clients.count:
        clients.all_ready.set()
    seen = 0
    tail = b""
    while chunk := await reader.read(65536):  # one read per event, not one per line
        data = tail + chunk
        for _ in range(data.count(EVENT)):
            clients.arrived(seen)
            seen += 1
        tail = data[-(len(EVENT) - 1) :]  # too short to hold a whole marker: none counted twice
    writer.close()


async def run(clients_n: int, events: int, folder: Path) -> list[tuple[float, float]]:
    """(time until all have it, time until half have it) per event, seconds."""
    with server(folder) as (base, database_url):
        parts = urlsplit(base)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = f"/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        clients = Clients(clients_n)
        gate = asyncio.Semaphore(200)
        tasks = [
            asyncio.create_task(listen(clients, gate, host, port, path)) for _ in range(clients_n)
        ]
        await asyncio.wait_for(clients.all_ready.wait(), timeout=300)
        ingester = Ingester(database_url)
        results = []
        for n in range(events):
            committed = await asyncio.to_thread(_ingest, ingester, n)
            deadline = time.monotonic() + 30
            while (len(clients.arrivals) <= n or len(clients.arrivals[n]) < clients_n) and (
                time.monotonic() < deadline
            ):
                await asyncio.sleep(0.001)
            got = sorted(clients.arrivals[n]) if len(clients.arrivals) > n else []
            if len(got) < clients_n:
                raise RuntimeError(f"event {n}: only {len(got)} of {clients_n} connections")
            results.append((got[-1] - committed, got[len(got) // 2] - committed))
            await asyncio.sleep(0.5)
        ingester.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


def _run_loop(main: Coroutine[Any, Any, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _ingest(ingester: Ingester, n: int) -> float:
    ingester.record(n)
    return time.perf_counter()


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    with tempfile.TemporaryDirectory() as folder:
        results = _run_loop(run(args.clients, args.events, Path(folder)))
    last = [r[0] for r in results]
    half = [r[1] for r in results]
    rows = [
        ("SSE connections", f"{args.clients:,}"),
        ("events", f"{args.events}"),
        ("commit -> all have it, p50 / p99", _ms(last)),
        ("commit -> half have it, p50 / p99", _ms(half)),
        ("aim (all, p99)", "<= 100 ms"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1e3:,.1f} / {percentile(values, 99) * 1e3:,.1f} ms"


if __name__ == "__main__":
    main()
