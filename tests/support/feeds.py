"""A real local HTTP server for adapter tests: routes answer like the real feeds do; sources.

Each route is a function of the request; helpers build the usual ones (a static body with an
ETag, an ArcGIS layer that pages, a Socrata resource that pages). Faults are routes too: a
status, a delay longer than the client's timeout, a body cut short.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig


@dataclass(frozen=True)
class Request:
    """What the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    cut_at: int | None = None
    """Send only this many bytes of the body, then close (a truncated transfer)."""


Route = Callable[[Request], Reply]


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 with routes set by the test."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hits(self, path: str) -> list[Request]:
        """Requests received for `path`."""
        return [r for r in self.requests if r.path == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                server.requests.append(request)
                route = server.routes.get(parts.path)
                reply = route(request) if route else Reply(404, b'{"error": "not found"}')
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                    self.wfile.write(body)
                if reply.cut_at is not None:
                    self.close_connection = True

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

        return Handler

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve() -> Iterator[FeedServer]:
    """For fixtures: a started server, shut down afterwards."""
    with FeedServer() as server:
        yield server


def etag_of(body: bytes) -> str:
    """A strong ETag of a body."""
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def static(body: bytes, content_type: str, *, etag: bool = True) -> Route:
    """A route answering `body`, with an ETag and Last-Modified honoured when asked."""
    tag = etag_of(body)
    modified = "Fri, 21 Aug 2026 23:42:25 GMT"

    def route(request: Request) -> Reply:
        if etag and request.headers.get("if-none-match") == tag:
            return Reply(304)
        if etag and request.headers.get("if-modified-since") == modified:
            return Reply(304)
        headers = {"Content-Type": content_type}
        if etag:
            headers.update({"ETag": tag, "Last-Modified": modified})
        return Reply(200, body, headers)

    return route


def arcgis_layer(document: Callable[[], dict[str, Any]]) -> Route:
    """An ArcGIS layer `query`: pages the current document by resultOffset/resultRecordCount,
    says exceededTransferLimit while more remain, answers 304 to its ETag."""

    def route(request: Request) -> Reply:
        full = document()
        tag = etag_of(json.dumps(full, sort_keys=True).encode())
        offset = int(request.query.get("resultOffset", "0"))
        count = int(request.query.get("resultRecordCount", "1000"))
        if offset == 0 and request.headers.get("if-none-match") == tag:
            return Reply(304)
        features = full["features"][offset : offset + count]
        page = {**full, "features": features}
        if offset + count < len(full["features"]):
            page["exceededTransferLimit"] = True
        body = json.dumps(page).encode()
        return Reply(200, body, {"Content-Type": "text/plain; charset=utf-8", "ETag": tag})

    return route


# Houston's 13 real snapshots of its active incidents, shipped as a sample feed.
HOUSTON = Path(service.__file__).parents[1] / "samples" / "houston_active_incidents"


STAMP = re.compile(r"data_(\d{8}T\d{6}Z)_")


def houston_snapshots() -> list[tuple[datetime, dict[str, Any]]]:
    """Each Houston snapshot with the time it was taken, oldest first."""
    found = []
    for path in sorted(HOUSTON.glob("data_*.json")):
        match = STAMP.match(path.name)
        assert match is not None
        taken = datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        found.append((taken, json.loads(path.read_bytes())))
    return found


SNAPSHOTS = houston_snapshots()


def config(kind: str, location: str, **extra: Any) -> SourceConfig:
    """A small Seattle-like source of `kind`; `extra` replaces top-level tables."""
    data: dict[str, Any] = {
        "slug": f"test-{kind}",
        "name": "Test feed",
        "kind": kind,
        "location": location,
        "bbox": [-122.48, 47.47, -122.20, 47.78],
        "agency": {"slug": "test-fire", "name": "Test Fire", "time_zone": "America/Los_Angeles"},
        "fields": {
            "external_id": "incident_number",
            "call_type": "type",
            "address": "address",
            "latitude": "latitude",
            "longitude": "longitude",
            "occurred_at": {"column": "datetime", "formats": ["iso8601"]},
        },
        "categories": {"Aid Response": "medical", "Motor Vehicle Accident": "traffic.collision"},
    }
    data.update(extra)
    return SourceConfig.model_validate(data)
