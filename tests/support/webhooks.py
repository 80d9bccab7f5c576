"""A real webhook receiver on loopback: records each POST, answers scripted statuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: httpx.Headers  # case-insensitive, as HTTP header names are
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on loopback that records POSTs and answers scripted statuses."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        """The scripted status for the next request (200 once the script is used up)."""
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


def serve_receiver(
    handle: Callable[[Receiver, Received], tuple[int, bytes]] | None = None,
) -> Iterator[Receiver]:
    """Run a receiver until the generator is closed."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            got = Received(self.path, httpx.Headers(self.headers.items()), self.rfile.read(length))
            with receiver.lock:
                receiver.received.append(got)
            status, body = handle(receiver, got) if handle else (receiver.next_status(), b"")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver answering 200 unless told otherwise."""
    yield from serve_receiver()
