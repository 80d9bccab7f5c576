"""`townsquare serve --workers 2` on PostgreSQL and NATS, as docs/deploy.md sets a node up:
two processes answer on one port, an incident reaches the live streams of both, and the
work only one process may do (matching and sending an alert) is done once."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.alerts import HOME, add_incident, deliveries, subscribe
from tests.support.broker import delete_stream
from tests.support.nodes import documented_env, nodes
from tests.support.sse import Stream, open_stream
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare import sealing
from townsquare.db import make_sessionmaker
from townsquare.live.views import PROCESS_HEADER

pytestmark = [pytest.mark.postgres, pytest.mark.deploy]
AREA = f"lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"


def test_two_workers_share_the_port_the_events_and_the_work_once(
    pg_engine: Engine, postgres_url: str, nats_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    secret = "ab" * 32
    sealing.bind(pg_engine, secret.encode())  # the webhook's secret is sealed as the node does
    stream_name = f"TEST_{uuid.uuid4().hex[:12].upper()}"
    env = documented_env(
        public_url="http://townsquare.test",
        database_url=postgres_url,
        bus_url=nats_url,
        bus_stream=stream_name,
        secret_key=secret,
        host="127.0.0.1",
        trusted_proxies="",
        data_dir=str(tmp_path / "node"),
        account_mail="console",
        media_jobs="0",
        relay_interval_s="0.05",
        stream_keepalive_s="1",
        stream_max_per_address="100",  # per worker; streams are opened until both hold one
        webhook_allow_private="true",
        log_level="WARNING",
    )
    factory = make_sessionmaker(pg_engine)
    with ExitStack() as stack:
        stack.callback(delete_stream, nats_url, stream_name)
        (base,) = stack.enter_context(
            nodes([env], [tmp_path / "node.log"], serve_args=("--workers", "2"))
        )
        subscribe(factory, [{"kind": "webhook", "url": receiver.url}])

        def every_worker_watches() -> bool:  # a fresh connection lands on either worker
            answers = [httpx.get(f"{base}/readyz").json() for _ in range(12)]
            return all(a["watch_areas"] == 1 for a in answers)

        wait_for(every_worker_watches, timeout=30, what="the watch area in both workers")

        streams: dict[str, list[Stream]] = {}

        def both_workers_hold_streams() -> bool:
            stream = stack.enter_context(open_stream(f"{base}/api/v1/stream?{AREA}"))
            stream.next("ready")
            streams.setdefault(stream.headers[PROCESS_HEADER], []).append(stream)
            return len(streams) == 2

        wait_for(both_workers_hold_streams, timeout=30, what="streams held by two processes")

        incident = add_incident(factory)
        for held in streams.values():
            for stream in held:
                event = stream.next("incident.published")
                assert event.json()["id"] == incident

        sent = wait_for(
            lambda: deliveries(factory, status="sent"), timeout=30, what="the alert sent"
        )
        assert len(sent) == 1
        assert [r.json()["incident"]["id"] for r in receiver.received] == [incident]
