"""End to end: a dispatch record ingested -> its alert received by a webhook, at a steady rate.

    .venv/bin/python bench/alerts_e2e.py [--rate 100] [--seconds 30] [--batch 100] [--postgres URL]

Starts a real `townsquare serve` process (SQLite, or a new PostgreSQL database with
--postgres; in-process bus) and a local webhook receiver, subscribes one webhook to the
area (every severity urgent, rate limit lifted),
then ingests structure-fire records through the ingest service at `--rate` records/s. For
each record: the time from when it was due (its place in the steady schedule) until the
receiver has its alert, and from the start of its ingestion (the aim is p99 <= 1 s at 100
records/s). Not run by the test suite.

The load is open-loop: record n is due at start + n/rate whatever happened before. The
ingester takes every record due by then in one call (at most `--batch`), as a dispatch
system pushing a body of several records or a polled feed would; on SQLite each ingest call
commits (fsyncs) a few times, so one call per record cannot keep 100 records/s on a disk
with ~8 ms fsyncs, and the bench would measure itself. `--batch 1` is one call per record.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from alerts_server import HOME, Ingester, external_id, percentile, server
from sqlalchemy import select

from townsquare.incidents.models import Incident


class Server(ThreadingHTTPServer):
    """The standard threading server with a listen backlog above 5 (else SYNs are dropped
    when the sender opens several connections at once, and each retry waits a second)."""

    request_queue_size = 128
    daemon_threads = True


class Receiver:
    """A webhook target on loopback that notes when each incident's alert arrives."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                incident = json.loads(body).get("incident", {}).get("id")
                if incident is not None:
                    with receiver.lock:
                        receiver.arrived.setdefault(int(incident), now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@dataclass
class Result:
    """What one run measured."""

    from_due: list[float]
    from_ingest: list[float]
    achieved: float
    sent: int
    calls: int


def run(rate: float, seconds: float, batch: int, folder: Path, postgres: str | None) -> Result:
    """Latencies (s) of the alerts received, from due and from ingestion, and the load given."""
    receiver = Receiver()
    with server(folder, postgres) as (base, database_url):
        created = httpx.post(
            f"{base}/api/v1/subscriptions",
            json={
                "area": {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 5000},
                "urgent_severity": 1,
                "channels": [{"kind": "webhook", "url": receiver.url}],
            },
            timeout=10,
        )
        created.raise_for_status()
        time.sleep(1)  # the server's index follows the subscription through the outbox
        ingester = Ingester(database_url)
        total = int(rate * seconds)
        start = time.perf_counter()
        due = [start + n / rate for n in range(total)]
        began: list[float] = [0.0] * total
        n = calls = 0
        while n < total:
            now = time.perf_counter()
            if due[n] > now:
                time.sleep(due[n] - now)
                continue
            end = n
            while end < total and end - n < batch and due[end] <= now:
                began[end] = now
                end += 1
            ingester.records([(i, HOME[0] + 0.0001 * (i % 100), HOME[1]) for i in range(n, end)])
            calls += 1
            n = end
        achieved = total / (time.perf_counter() - start)
        with ingester.factory() as session:
            ids = {e: i for e, i in session.execute(select(Incident.external_id, Incident.id))}
        number = {ids[external_id(i)]: i for i in range(total) if external_id(i) in ids}
        deadline = time.monotonic() + 30
        while len(receiver.arrived) < len(number) and time.monotonic() < deadline:
            time.sleep(0.1)
        ingester.close()
    receiver.http.shutdown()
    arrived = [(receiver.arrived[i], number[i]) for i in number if i in receiver.arrived]
    return Result(
        from_due=[t - due[i] for t, i in arrived],
        from_ingest=[t - began[i] for t, i in arrived],
        achieved=achieved,
        sent=len(number),
        calls=calls,
    )


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=100, help="most records per ingest call")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on a new database of this PostgreSQL server instead of SQLite",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        got = run(args.rate, args.seconds, max(1, args.batch), Path(folder), args.postgres)
    rows = [
        ("store", "PostgreSQL" if args.postgres else "SQLite"),
        ("records ingested", f"{got.sent:,}"),
        ("rate asked / achieved", f"{args.rate:.0f} / {got.achieved:.1f} records/s"),
        ("ingest calls (records each)", f"{got.calls:,} ({got.sent / max(1, got.calls):.1f})"),
        ("webhooks received", f"{len(got.from_due):,}"),
        ("due -> webhook p50 / p99", _ms(got.from_due)),
        ("ingest start -> webhook p50 / p99", _ms(got.from_ingest)),
        ("aim (p99 at 100 records/s)", "<= 1,000 ms"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def _ms(values: list[float]) -> str:
    if not values:
        return "none received"
    return f"{percentile(values, 50) * 1e3:,.0f} / {percentile(values, 99) * 1e3:,.0f} ms"


if __name__ == "__main__":
    main()
