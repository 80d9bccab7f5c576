"""A NATS outage loses nothing: two nodes keep committing while their bus is down (the
outbox holds every announcement), and once NATS is back both catch up, each live stream
and each webhook getting every event exactly once.

The test runs its own nats-server (JetStream in a temporary folder) on a free port, kills
it with SIGKILL and starts it again on the same port and store; the machine's shared NATS
is never touched.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.alerts import HOME, add_incident, unsettled
from tests.support.broker import OwnNats, drained
from tests.support.nodes import nodes
from tests.support.sse import Stream, open_stream
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.db import make_sessionmaker

pytestmark = pytest.mark.postgres
STREAM = "OUTAGE"


def _ids_until(stream: Stream, marker: int) -> list[int]:
    """Incident ids published on `stream` up to and including `marker` (in order)."""
    return _ids_until_all(stream, [marker])


def _ids_until_all(stream: Stream, wanted: list[int]) -> list[int]:
    """Incident ids published on `stream` until every one of `wanted` has come (in order)."""
    seen: list[int] = []
    while not set(wanted) <= set(seen):
        seen.append(stream.next("incident.published", timeout=60).json()["id"])
    return seen


def test_writes_commit_through_a_nats_outage_and_both_nodes_catch_up_once(
    pg_engine: Engine, postgres_url: str, own_nats: OwnNats, receiver: Receiver, tmp_path: Path
) -> None:
    env = {
        "TOWNSQUARE_DATABASE_URL": postgres_url,
        "TOWNSQUARE_BUS_URL": own_nats.url,
        "TOWNSQUARE_BUS_STREAM": STREAM,
        "TOWNSQUARE_SECRET_KEY": "two nodes' shared secret",
        "TOWNSQUARE_MEDIA_STORAGE": "database",
        "TOWNSQUARE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TOWNSQUARE_RELAY_INTERVAL_S": "0.05",
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_LOG_LEVEL": "WARNING",
    }
    factory = make_sessionmaker(pg_engine)
    area = {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000}
    with (
        ExitStack() as running,
        nodes([env, env], [tmp_path / "a.log", tmp_path / "b.log"]) as (a, b),
    ):
        url = "/api/v1/stream?lat={}&lon={}&radius_m=2000".format(*HOME)
        on_a = running.enter_context(open_stream(a + url))
        on_b = running.enter_context(open_stream(b + url))
        on_a.next("ready")
        on_b.next("ready")
        hook = {"area": area, "channels": [{"kind": "webhook", "url": receiver.url}]}
        assert httpx.post(f"{a}/api/v1/subscriptions", json=hook).status_code == 201
        before = add_incident(factory)
        assert _ids_until(on_a, before) == [before]
        assert _ids_until(on_b, before) == [before]

        own_nats.kill()
        # Writes go on: through a node's API and as ingestion writes them; the outbox keeps
        # every announcement until the bus takes it.
        elsewhere = area | {"lat": HOME[0] + 0.5}  # no incident falls in it
        second = httpx.post(f"{b}/api/v1/subscriptions", json=hook | {"area": elsewhere})
        assert second.status_code == 201, second.text
        during = [add_incident(factory, lat=HOME[0] + 0.001 * i) for i in range(1, 4)]
        waiting = unsettled(factory)[0]
        assert waiting >= len(during) + 1  # nothing relayed while NATS is down
        print(f"{waiting} announcements held in the outbox during the outage")

        own_nats.start()
        restarted = time.monotonic()
        marker = add_incident(factory, lat=HOME[0] - 0.001)
        # Each once. Not always in order: after an outage both nodes relay the backlog at once,
        # so a stream may see a later incident before an earlier one.
        assert sorted(_ids_until_all(on_a, [*during, marker])) == [*during, marker]
        assert sorted(_ids_until_all(on_b, [*during, marker])) == [*during, marker]
        print(f"both streams caught up {time.monotonic() - restarted:.1f} s after NATS restarted")
        wait_for(
            lambda: httpx.get(f"{a}/readyz").json()["watch_areas"] == 2,
            timeout=60,
            what="node A to learn of the watch area made on node B during the outage",
        )

        def finished() -> bool:
            return unsettled(factory) == (0, 0) and drained(own_nats.url, STREAM)

        wait_for(finished, timeout=60, what="both nodes to finish every event and delivery")
        alerted = sorted(r.json()["incident"]["id"] for r in receiver.received)
        assert alerted == [before, *during, marker]  # every one alerted, none twice
