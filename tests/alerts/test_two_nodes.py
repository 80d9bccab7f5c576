"""Two server processes sharing PostgreSQL and NATS JetStream act as one service."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.alerts import HOME, add_incident, unsettled
from tests.support.broker import delete_stream, drained
from tests.support.nodes import nodes
from tests.support.sse import open_stream
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.db import make_sessionmaker

pytestmark = pytest.mark.postgres


def test_incident_on_node_a_reaches_a_stream_on_node_b_and_one_webhook(
    pg_engine: Engine, postgres_url: str, nats_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    stream = f"TEST_{uuid.uuid4().hex[:12].upper()}"
    env = {
        "TOWNSQUARE_DATABASE_URL": postgres_url,
        "TOWNSQUARE_BUS_URL": nats_url,
        "TOWNSQUARE_BUS_STREAM": stream,
        "TOWNSQUARE_SECRET_KEY": "two nodes' shared secret",
        "TOWNSQUARE_MEDIA_STORAGE": "database",
        "TOWNSQUARE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TOWNSQUARE_RELAY_INTERVAL_S": "0.05",
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_LOG_LEVEL": "WARNING",
    }
    try:
        with nodes([env, env], [tmp_path / "a.log", tmp_path / "b.log"]) as (a, b):
            created = httpx.post(
                f"{b}/api/v1/subscriptions",
                json={
                    "area": {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000},
                    "channels": [{"kind": "webhook", "url": receiver.url}],
                },
            )
            assert created.status_code == 201, created.text
            # made on node B; node A learns of it through the bus
            wait_for(
                lambda: httpx.get(f"{a}/readyz").json()["watch_areas"] == 1,
                what="node A to learn of the watch area",
            )

            url = f"{b}/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
            with open_stream(url) as live:
                live.next("ready")
                # No push endpoint for dispatch yet: the incident enters the shared store
                # as ingestion would write it (with its outbox row) and the nodes relay it.
                incident_id = add_incident(make_sessionmaker(pg_engine))
                event = live.next("incident.published")
                assert event.json()["id"] == incident_id

            wait_for(lambda: receiver.received, what="the webhook delivery")
            # Exactly one webhook delivery, no repeat: once every event is relayed, every node
            # is done with it and every delivery is sent or given up, no request can follow.
            factory = make_sessionmaker(pg_engine)

            def finished() -> bool:
                return (
                    unsettled(factory)[0] == 0
                    and drained(nats_url, stream)
                    and unsettled(factory) == (0, 0)
                )

            wait_for(finished, what="both nodes to finish with every event and delivery")
            assert len(receiver.received) == 1
            assert receiver.received[0].json()["incident"]["id"] == incident_id
            token = created.json()["manage_token"]
            sub_id = created.json()["subscription"]["id"]
            log = httpx.get(
                f"{a}/api/v1/subscriptions/{sub_id}/deliveries",
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            assert [(d["kind"], d["status"]) for d in log] == [("alert", "sent")]
    finally:
        delete_stream(nats_url, stream)
