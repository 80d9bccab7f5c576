"""Alert fixtures: a platform on the test store, a real local webhook receiver, helpers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests import factories
from townsquare.alerts import service
from townsquare.alerts.models import Delivery
from townsquare.alerts.schemas import SubscriptionCreated, SubscriptionIn
from townsquare.db import transaction, utcnow
from townsquare.incidents.models import Incident
from townsquare.platform import Platform
from townsquare.settings import Settings

HOME = (47.6100, -122.3300)


def alert_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for alert tests: local webhooks allowed, quick retries."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "webhook_allow_private": True,
        "alert_retry_base_s": 0.05,
        "alert_max_attempts": 3,
        "public_url": "http://townsquare.test",
        "relay_interval_s": 0.05,
        "stream_keepalive_s": 0.5,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def platform(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Platform:
    """A started platform (memory bus) on the test store; no server loops run."""
    platform = Platform(alert_settings(tmp_path), engine, factory)
    platform.start()
    return platform


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

    def quiet_for(self, seconds: float) -> int:
        """How many requests there are once none has arrived for `seconds`."""
        count = -1
        while count != len(self.received):
            count = len(self.received)
            time.sleep(seconds)
        return count

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


def subscribe(
    factory: sessionmaker[Session],
    channels: list[dict[str, Any]],
    *,
    lat: float = HOME[0],
    lon: float = HOME[1],
    radius_m: float = 1000,
    **extra: Any,
) -> SubscriptionCreated:
    """Create a circle subscription through the service."""
    data = SubscriptionIn.model_validate(
        {
            "area": {"type": "circle", "lat": lat, "lon": lon, "radius_m": radius_m},
            "channels": channels,
            **extra,
        }
    )
    return service.create_subscription(factory, data, actor="test", now=utcnow())


def add_incident(
    factory: sessionmaker[Session],
    *,
    lat: float = HOME[0],
    lon: float = HOME[1],
    category: str = "fire.structure",
    alertable: bool = True,
    when: datetime | None = None,
) -> int:
    """A public incident, announced as published; returns its id."""
    with transaction(factory) as session:
        row = factories.incident(
            session,
            lat=lat,
            lon=lon,
            occurred_at=when or utcnow() - timedelta(minutes=1),
            category=category,
        )
        row.alertable = alertable
        row.alertable_reasons = ["test"] if alertable else []
        return row.id


def change_incident(factory: sessionmaker[Session], incident_id: int, **values: Any) -> None:
    """Change an incident and announce it the way ingestion does."""
    from townsquare.events.outbox import announce

    with transaction(factory) as session:
        row = session.get_one(Incident, incident_id)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        topic = "incident.updated" if row.visibility == "public" else "incident.removed"
        announce(session, topic, {"id": incident_id})


def deliveries(factory: sessionmaker[Session], **where: Any) -> list[Delivery]:
    """Delivery rows, oldest first."""
    with factory() as session:
        stmt = select(Delivery).filter_by(**where).order_by(Delivery.id)
        return list(session.scalars(stmt))


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll until `predicate()` is truthy; fails with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s (last: {value!r})")
        time.sleep(0.05)


NATS_ENV = "TOWNSQUARE_TEST_NATS_URL"


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server (JetStream) the tests may use, or a skip that says why there is none."""
    import os
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get(NATS_ENV, "nats://127.0.0.1:4222")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 2).close()
    except OSError as exc:
        pytest.skip(f"NATS at {url} unreachable ({exc}); .ci/run starts one ({NATS_ENV})")
    return url


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """The run's PostgreSQL store alone (for tests of several nodes), emptied afterwards."""
    from sqlalchemy import text

    from townsquare.db import make_engine
    from townsquare.migrations.tables import Base

    eng = make_engine(postgres_url)
    yield eng
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with eng.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    eng.dispose()


def delete_stream(nats_url: str, name: str) -> None:
    """Remove a test's JetStream stream from the shared server."""
    import asyncio

    import nats

    async def run() -> None:
        connection = await nats.connect(nats_url)
        try:
            await connection.jetstream().delete_stream(name)
        finally:
            await connection.close()

    asyncio.run(run())
