"""The scheduler over real HTTP with a hand-driven clock: a hanging source delays only
itself, failures back off with jitter, the breaker opens and lets one trial through."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import FeedServer, Reply, Request, config, static
from townsquare.ingest import health as source_health
from townsquare.ingest import scheduler
from townsquare.ingest.scheduler import Scheduler, backoff_s

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RECORD = {
    "incident_number": "F1",
    "type": "Motor Vehicle Accident",
    "datetime": "2026-11-28T03:05:00",
    "address": "1500 Pine St",
    "latitude": "47.6150",
    "longitude": "-122.3300",
}


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


def test_backoff_doubles_with_jitter_up_to_the_ceiling() -> None:
    rng = random.Random(7)
    assert backoff_s(60, 0, rng) == 60
    for failures in range(1, 12):
        ceiling = min(scheduler.MAX_BACKOFF_S, 60 * 2 ** (failures - 1))
        waits = [backoff_s(60, failures, rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 40  # jittered: sources failing together spread out


def test_a_hanging_source_never_delays_the_others(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    gate = threading.Event()

    def hanging(_: Request) -> Reply:
        gate.wait(30)
        return Reply(500, b'{"message": "upstream database down", "error": true}')

    server.routes["/fast.json"] = static(json.dumps([RECORD]).encode(), "application/json")
    server.routes["/slow.json"] = hanging
    fast = config("json", f"{server.url}/fast.json", poll_interval_s=60).model_copy(
        update={"slug": "fast"}
    )
    slow = config("json", f"{server.url}/slow.json", poll_interval_s=60).model_copy(
        update={"slug": "slow"}
    )
    clock = Clock()
    sched = Scheduler(factory, [fast, slow], clock=clock, rng=random.Random(1))
    try:
        first = sched.tick()
        assert len(first) == 2
        first[0].result(timeout=30)
        clock.now += timedelta(seconds=61)
        again = sched.tick()  # the slow source is still hanging: only the fast one starts
        assert len(again) == 1
        again[0].result(timeout=30)
        assert len(server.hits("/fast.json")) == 2
        assert not first[1].done()
        gate.set()
        first[1].result(timeout=30)
        with factory() as session:
            health = {h.slug: h for h in source_health.list_sources(session)}
        assert health["fast"].state(clock.now) == "ok"
        assert health["fast"].incidents == 1
        assert health["slow"].state(clock.now) == "failing"
        assert health["slow"].last_error is not None
        assert "HTTP 500: upstream database down" in health["slow"].last_error
        # The second fast poll was answered 304 (ETag): nothing re-read.
        assert server.hits("/fast.json")[1].headers.get("if-none-match")
    finally:
        gate.set()
        sched.close()


def test_the_breaker_opens_after_repeated_failures_then_tries_once(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    server.routes["/down.json"] = lambda _: Reply(503, b"Service Unavailable")
    down = config("json", f"{server.url}/down.json", poll_interval_s=60)
    clock = Clock()
    sched = Scheduler(factory, [down], clock=clock, rng=random.Random(2))
    try:
        for _ in range(scheduler.BREAKER_FAILURES):
            for future in sched.tick():
                future.result(timeout=30)
            clock.now += timedelta(seconds=scheduler.MAX_BACKOFF_S)
        assert len(server.hits("/down.json")) == scheduler.BREAKER_FAILURES
        with factory() as session:
            (health,) = source_health.list_sources(session)
        opened = START + timedelta(seconds=scheduler.MAX_BACKOFF_S * 4)
        assert health.circuit_open_until == opened + timedelta(seconds=scheduler.BREAKER_OPEN_S)
        assert health.state(opened) == "open"
        assert health.failures == scheduler.BREAKER_FAILURES
        clock.now = opened + timedelta(seconds=scheduler.BREAKER_OPEN_S - 1)
        assert sched.tick() == []  # open: no request at all
        clock.now += timedelta(seconds=2)
        trial = sched.tick()
        assert len(trial) == 1  # half-open: one trial
        trial[0].result(timeout=30)
        assert len(server.hits("/down.json")) == scheduler.BREAKER_FAILURES + 1
    finally:
        sched.close()
