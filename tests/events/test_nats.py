"""NATS JetStream bus: every node sees broadcasts, one node per shared event, no duplicates."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.broker import delete_stream
from tests.support.waiting import wait_for
from townsquare.events.nats import NatsBus


@pytest.fixture
def stream_name() -> str:
    """A stream of this test alone, so runs sharing the NATS server never meet."""
    return f"TEST_{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture
def buses(nats_url: str, stream_name: str) -> Iterator[list[NatsBus]]:
    """Two nodes' buses on one stream."""
    nodes = [NatsBus(nats_url, stream_name), NatsBus(nats_url, stream_name)]
    for bus in nodes:
        bus.open()
    yield nodes
    for bus in nodes:
        bus.close()
    delete_stream(nats_url, stream_name)


class Recorder:
    """A handler remembering what it got, thread-safe."""

    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise RuntimeError("handler failed on purpose")
            self.got.append((topic, payload))


def test_broadcast_reaches_every_node_in_order(buses: list[NatsBus]) -> None:
    a, b = Recorder(), Recorder()
    buses[0].subscribe(a)
    buses[1].subscribe(b)
    for i in range(1, 6):
        buses[0].publish("incident.published", {"id": i, "event_id": i})
    wait_for(lambda: len(a.got) == 5 and len(b.got) == 5, what="5 events on each node")
    assert [p["id"] for _, p in a.got] == [1, 2, 3, 4, 5]
    assert a.got == b.got


def test_shared_events_go_to_one_node_each_and_resends_are_dropped(buses: list[NatsBus]) -> None:
    a, b = Recorder(), Recorder()
    buses[0].subscribe_shared("alerts", a)
    buses[1].subscribe_shared("alerts", b)
    for i in range(1, 21):
        buses[i % 2].publish("incident.published", {"id": i, "event_id": i})
    buses[0].publish("incident.published", {"id": 7, "event_id": 7})  # the relay re-sends
    wait_for(lambda: len(a.got) + len(b.got) >= 20, what="20 shared events")
    assert sorted(p["id"] for _, p in a.got + b.got) == list(range(1, 21))
    assert len(a.got) + len(b.got) == 20


def test_a_failed_handler_gets_the_event_again(buses: list[NatsBus]) -> None:
    flaky = Recorder(fail_first=1)
    buses[0].subscribe_shared("alerts", flaky)
    buses[0].publish("incident.published", {"id": 1, "event_id": 1})
    assert wait_for(lambda: flaky.got, what="the event sent again") == [
        ("incident.published", {"id": 1, "event_id": 1})
    ]


def test_an_idle_shared_consumer_logs_no_error_and_does_not_stall(
    nats_url: str, stream_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A fetch deadline of a millisecond runs out between nats-py's two pull requests, where it
    # raises a plain asyncio.TimeoutError: the idle case an ordinary node meets a few times a
    # minute, here on every fetch.
    bus = NatsBus(nats_url, stream_name, fetch_timeout_s=0.001)
    bus.open()
    try:
        got = Recorder()
        with caplog.at_level(logging.WARNING, logger="townsquare.events.nats"):
            bus.subscribe_shared("alerts", got)
            wait_for(lambda: bus.idle_fetches >= 50, what="50 idle fetches")
            bus.publish("incident.published", {"id": 1, "event_id": 1})
            wait_for(lambda: got.got, what="the event after the idle fetches")
        assert [r.getMessage() for r in caplog.records] == []
    finally:
        bus.close()
        delete_stream(nats_url, stream_name)
