"""End to end: a dispatch record ingested -> its alert received by a webhook, at a steady rate.

    .venv/bin/python bench/alerts_e2e.py [--rate 100] [--seconds 30]

Starts a real `townsquare serve` process (SQLite, in-process bus) and a local webhook
receiver, subscribes one webhook to the area (every severity urgent, rate limit lifted),
then ingests structure-fire records through the ingest service at `--rate` records/s. For
each record: the time from the start of its ingestion until the receiver has its alert (the
aim is p99 <= 1 s at 100 records/s). Not run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from alerts_server import HOME, Ingester, percentile, server
from sqlalchemy import func, select

from townsquare.incidents.models import Incident


class Receiver:
    """A webhook target on loopback that notes when each incident's alert arrives."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
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

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


def run(rate: float, seconds: float, folder: Path) -> tuple[list[float], float, int]:
    """Latencies (s) of the alerts received, the achieved rate, and the records sent."""
    receiver = Receiver()
    with server(folder) as (base, database_url):
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
        sent: dict[int, float] = {}
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            wait = start + n / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            began = time.perf_counter()
            ingester.record(n, HOME[0] + 0.0001 * (n % 100), HOME[1])
            with ingester.factory() as session:
                sent[int(session.scalar(select(func.max(Incident.id))) or 0)] = began
        achieved = total / (time.perf_counter() - start)
        deadline = time.monotonic() + 30
        while len(receiver.arrived) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        ingester.close()
    receiver.http.shutdown()
    latencies = [receiver.arrived[i] - t for i, t in sent.items() if i in receiver.arrived]
    return latencies, achieved, len(sent)


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        latencies, achieved, sent = run(args.rate, args.seconds, Path(folder))
    rows = [
        ("records ingested", f"{sent:,}"),
        ("rate asked / achieved", f"{args.rate:.0f} / {achieved:.1f} records/s"),
        ("webhooks received", f"{len(latencies):,}"),
        (
            "ingest -> webhook p50 / p99",
            f"{percentile(latencies, 50) * 1e3:,.0f} / {percentile(latencies, 99) * 1e3:,.0f} ms"
            if latencies
            else "none received",
        ),
        ("aim (p99 at 100 records/s)", "<= 1,000 ms"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
