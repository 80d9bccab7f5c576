"""What optional traces cost a request: the same feed page with tracing off and on.

An in-process app on a SQLite store holding the San Francisco sample; with tracing on, spans go
to a local OTLP/HTTP endpoint that accepts and drops them (export happens on its own thread).
Prints p50, p99 and mean per request in milliseconds for each mode.
Run: `.venv/bin/python bench/tracing.py` (`--n 2000` requests per mode by default).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient

from townsquare.app import create_app
from townsquare.db import make_engine, make_sessionmaker
from townsquare.ingest import service as ingest
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.ingest.sources.registry import adapter_for
from townsquare.migrations import runner
from townsquare.platform import Platform
from townsquare.settings import Settings

PATHS = ("/api/v1/incidents?lat=37.7749&lon=-122.4194&radius_m=5000&limit=50", "/healthz")


class Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that reads each export and answers an empty success."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def run(settings: Settings, path: str, n: int) -> list[float]:
    """Durations of `n` requests of `path`, after a warm-up."""
    engine = make_engine(settings.resolved_database_url())
    app = create_app(platform=Platform(settings, engine, make_sessionmaker(engine)))
    out = []
    with TestClient(app) as client:
        for _ in range(50):
            client.get(path)
        for _ in range(n):
            start = time.perf_counter()
            assert client.get(path).status_code == 200
            out.append(time.perf_counter() - start)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        off = Settings(data_dir=Path(folder))
        engine = make_engine(off.resolved_database_url())
        runner.upgrade(engine)
        config = load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml")
        report = ingest.ingest_items(
            make_sessionmaker(engine), config, adapter_for(config.kind).fetch(config)
        )
        engine.dispose()
        on = off.model_copy(update={"otel_endpoint": f"http://127.0.0.1:{sink.server_port}"})
        print(f"{report.received} sample records; {n} requests per row")
        print(f"{'path':<40} {'traces':<7} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for path in PATHS:
            for name, settings in (("off", off), ("on", on)):
                samples = sorted(run(settings, path, n))
                p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
                print(
                    f"{path.split('?')[0]:<40} {name:<7} {statistics.median(samples) * 1e3:>8.2f} "
                    f"{p99 * 1e3:>8.2f} {statistics.fmean(samples) * 1e3:>8.2f}"
                )
    sink.shutdown()


if __name__ == "__main__":
    main()
