"""Live-stream fan-out: time until every one of N SSE connections has a new incident,
with 1 and with 2 worker processes, in the same run.

    .venv/bin/python bench/stream_fanout.py \
        --postgres postgresql+psycopg://postgres@127.0.0.1/postgres \
        --nats nats://127.0.0.1:4222 [--clients 5000] [--events 20] [--workers 1,2] \
        [--before /path/to/other/src]

With `--before`, each worker count is measured twice in the same run: first a server
importing townsquare from that source folder (the code before a change), then this one.

For each worker count: a real `townsquare serve --workers W` on a fresh PostgreSQL database
and its own NATS stream (several workers need both), N concurrent
`GET /api/v1/stream?lat=&lon=&radius_m=` connections opened by client processes of their
own (`--client-processes`, raw asyncio sockets on uvloop: lighter than an HTTP client), then
one dispatch record at a time ingested through the ingest service in this process. For each
event: the time from the ingest call's return (its commit, and the little after it) until the
last connection has it, until half and until the first have it (a fast event can beat the
return; commit -> first is the relay, the bus and the store read, first -> last the fan-out).
The relay runs at its default interval (`--relay-interval`, 0.2 s) unless told otherwise. Times are
CLOCK_MONOTONIC, one clock for every process of the machine. The load average (1 min) is
read before and after each run, and the CPU the server and the clients spent per event: the
machine is shared, and the clients' own reading is part of the figure. Not run by the test
suite.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import nats as nats_client
from alerts_server import HOME, Ingester, free_port, fresh_database, percentile

from townsquare.db import make_engine
from townsquare.migrations import runner

EVENT = b"event: incident.published"
IDLE_S = 3.0
SERVE_PATIENTLY = """
import functools, uvicorn
from townsquare.cli import app
uvicorn.run = functools.partial(uvicorn.run, timeout_worker_healthcheck=60)
app()
"""
"""`townsquare serve`, its workers given a minute to answer uvicorn's first ping (the code
before the change kept uvicorn's 5 s, and a loaded machine starts a worker slower)."""
SERVE = [sys.executable, "-c", SERVE_PATIENTLY, "serve"]
PATH = f"/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"


def now() -> float:
    """The machine-wide monotonic clock (the same in every process)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


async def _listen(
    port: int,
    gate: asyncio.Semaphore,
    ready: list[int],
    arrivals: list[list[float]],
    holders: Counter[str],
) -> None:
    """One SSE connection: connect (a few hundred at a time), then note each published event."""
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        writer.write(request.encode())
        while not (line := await reader.readline()).startswith(b"event: ready"):
            if line.lower().startswith(b"x-townsquare-process:"):
                holders[line.partition(b":")[2].strip().decode()] += 1
    ready[0] += 1
    seen, tail = 0, b""
    while chunk := await reader.read(65536):  # one read per event, not one per line
        data = tail + chunk
        for _ in range(data.count(EVENT)):
            while len(arrivals) <= seen:
                arrivals.append([])
            arrivals[seen].append(now())
            seen += 1
        tail = data[-(len(EVENT) - 1) :]  # too short to hold a whole marker: none counted twice
    writer.close()


async def _clients(port: int, count: int, pipe: Connection) -> None:
    """`count` connections; tells the parent when all are ready, then each event's arrivals."""
    ready, arrivals, holders = [0], [], Counter[str]()
    gate = asyncio.Semaphore(100)
    tasks = [
        asyncio.create_task(_listen(port, gate, ready, arrivals, holders)) for _ in range(count)
    ]
    while ready[0] < count:
        await asyncio.sleep(0.05)
    pipe.send(dict(holders))
    reported = 0
    while True:
        if pipe.poll():
            break  # the parent says stop
        while len(arrivals) > reported and len(arrivals[reported]) >= count:
            pipe.send(arrivals[reported])
            reported += 1
        await asyncio.sleep(0.002)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def client_process(port: int, count: int, pipe: Connection) -> None:
    """Entry point of one client process."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(_clients(port, count, pipe))
    else:
        uvloop.run(_clients(port, count, pipe))


@dataclass
class Result:
    """One configuration's figures."""

    code: str
    workers: int
    first: list[float]
    """Commit until the first connection has it: the relay, the bus and the store read."""
    last: list[float]
    half: list[float]
    load_before: float
    load_after: float
    streams_per_worker: list[int]
    server_cpu_s: float
    """CPU seconds of the server's processes (parent and workers) per event, less what the
    idle server burns in the same time."""
    clients_cpu_s: float


@contextmanager
def serving(
    folder: Path, url: str, nats: str, workers: int, source: str | None, relay_interval_s: float
) -> Iterator[tuple[int, int]]:
    """`townsquare serve --workers W` on PostgreSQL and a NATS stream of its own, importing
    townsquare from `source` if given; its port and process id."""
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()
    port = free_port()
    stream = f"BENCH_{uuid.uuid4().hex[:10].upper()}"
    env = {
        **os.environ,
        "TOWNSQUARE_DATABASE_URL": url,
        "TOWNSQUARE_DATA_DIR": str(folder),
        "TOWNSQUARE_BUS_URL": nats,
        "TOWNSQUARE_BUS_STREAM": stream,
        "TOWNSQUARE_SECRET_KEY": secrets.token_hex(32),
        "TOWNSQUARE_MEDIA_STORAGE": "database",
        "TOWNSQUARE_MEDIA_JOBS": "0",
        "TOWNSQUARE_RELAY_INTERVAL_S": str(relay_interval_s),
        "TOWNSQUARE_STREAM_MAX_PER_ADDRESS": "100000",
        "TOWNSQUARE_LOG_LEVEL": "WARNING",
    }
    if source is not None:
        env["PYTHONPATH"] = source
    log_path = folder / f"server-{workers}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not _ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server not ready: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        asyncio.run(_delete_stream(nats, stream))


async def _delete_stream(url: str, name: str) -> None:
    """Remove the run's NATS stream (its events are of no use after it)."""
    connection = await nats_client.connect(url)
    try:
        await connection.jetstream().delete_stream(name)
    finally:
        await connection.close()


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its children, from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total + sum(cpu_s(int(child)) for child in children)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def measure(
    args: argparse.Namespace, workers: int, folder: Path, code: str, source: str | None
) -> Result:
    """One configuration: serve, connect the clients, ingest `events` records one by one."""
    with (
        fresh_database(folder, args.postgres) as url,
        serving(folder, url, args.nats, workers, source, args.relay_interval) as (port, server),
    ):
        context = mp.get_context("spawn")
        shares = [args.clients // args.client_processes] * args.client_processes
        shares[0] += args.clients - sum(shares)
        pipes, processes = [], []
        for share in shares:
            mine, theirs = context.Pipe()
            process = context.Process(target=client_process, args=(port, share, theirs))
            process.start()
            pipes.append(mine)
            processes.append(process)
        holders: Counter[str] = Counter()
        for pipe in pipes:
            if not pipe.poll(300):
                raise RuntimeError("the clients did not connect within 300 s")
            holders.update(pipe.recv())
        ingester = Ingester(url)
        load_before = os.getloadavg()[0]
        idle = cpu_s(server)  # what the idle server burns (relay polls, keep-alives) is not
        time.sleep(IDLE_S)  # the events' cost: measured, then taken off
        idle_rate = (cpu_s(server) - idle) / IDLE_S
        started = time.monotonic()
        server_cpu, clients_cpu = cpu_s(server), sum(cpu_s(p.pid or 0) for p in processes)
        first, last, half = [], [], []
        try:
            for n in range(args.events):
                ingester.record(n)
                committed = now()
                got: list[float] = []
                for pipe in pipes:
                    if not pipe.poll(30):
                        raise RuntimeError(f"event {n}: not every connection had it in 30 s")
                    got += pipe.recv()
                got.sort()
                first.append(got[0] - committed)
                last.append(got[-1] - committed)
                half.append(got[len(got) // 2] - committed)
                time.sleep(0.3)
            server_cpu = cpu_s(server) - server_cpu - idle_rate * (time.monotonic() - started)
            clients_cpu = sum(cpu_s(p.pid or 0) for p in processes) - clients_cpu
        finally:
            load_after = os.getloadavg()[0]
            ingester.close()
            for pipe in pipes:
                pipe.send("stop")
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
    shares = sorted(holders.values(), reverse=True)
    return Result(
        code,
        workers,
        first,
        last,
        half,
        load_before,
        load_after,
        shares,
        server_cpu / args.events,
        clients_cpu / args.events,
    )


def main() -> None:
    """Run every worker count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", required=True, help="a PostgreSQL server URL")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--before", help="a townsquare source folder to measure first")
    parser.add_argument(
        "--relay-interval",
        type=float,
        default=0.2,
        help="TOWNSQUARE_RELAY_INTERVAL_S (0.2 s default)",
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    results = []
    codes = [("before", args.before), ("after", None)] if args.before else [("this", None)]
    for workers in [int(w) for w in args.workers.split(",")]:
        for code, source in codes:
            with tempfile.TemporaryDirectory() as folder:
                results.append(measure(args, workers, Path(folder), code, source))
    print(
        f"{args.clients:,} SSE connections from {args.client_processes} client processes, "
        f"{args.events} events, {os.cpu_count()} cores, relay interval {args.relay_interval} s; "
        "aim: all have it p99 <= 50 ms"
    )
    print(
        "| code | workers | streams per worker | commit -> first has it, p50 / p99 "
        "| commit -> all have it, p50 / p99 "
        "| commit -> half, p50 / p99 | server CPU per event | clients' CPU per event "
        "| load 1 min |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        load = f"{r.load_before:.2f} -> {r.load_after:.2f}"
        shares = " + ".join(f"{n:,}" for n in r.streams_per_worker)
        print(
            f"| {r.code} | {r.workers} | {shares} | {_ms(r.first)} | {_ms(r.last)} | {_ms(r.half)} "
            f"| {r.server_cpu_s * 1e3:,.0f} ms | {r.clients_cpu_s * 1e3:,.0f} ms | {load} |"
        )


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1e3:,.1f} / {percentile(values, 99) * 1e3:,.1f} ms"


if __name__ == "__main__":
    main()
