"""The delivery worker is woken by the deliveries matching decides, and sends each once."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, deliveries, subscribe
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.alerts import delivery, runtime
from townsquare.alerts.channels import Outgoing
from townsquare.platform import Platform


def test_a_delivery_decided_while_the_worker_looks_wakes_it_rather_than_waiting(
    platform: Platform, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "IDLE_WAIT_S", 3600.0)  # only a wake-up can start a round
    subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    decided: list[int] = []
    claim_due = delivery.claim_due

    def claim_then_decide(
        factory: sessionmaker[Session], now: datetime, limit: int = delivery.BATCH
    ) -> list[Outgoing]:
        claimed = claim_due(factory, now, limit)
        if not decided:  # the first look finds nothing due; just after it, matching decides
            decided.append(add_incident(platform.factory))
            platform.relay_once()  # adds the delivery and wakes the worker, which is busy
        return claimed

    monkeypatch.setattr(delivery, "claim_due", claim_then_decide)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    worker = threading.Thread(target=loop.run_until_complete, args=(platform.alerts.run(stop),))
    worker.start()
    try:
        wait_for(lambda: receiver.received, what="the webhook delivery")
    finally:
        loop.call_soon_threadsafe(stop.set)
        worker.join(timeout=10)
        loop.close()
    assert [r.json()["incident"]["id"] for r in receiver.received] == decided
    assert [(d.incident_id, d.status) for d in deliveries(platform.factory)] == [
        (decided[0], "sent")
    ]


def test_one_batch_naming_an_incident_twice_alerts_once(
    platform: Platform, receiver: Receiver
) -> None:
    subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    first, second = add_incident(platform.factory), add_incident(platform.factory)
    platform.bus.publish_batch(
        [
            ("incident.published", {"id": first, "event_id": 901}),
            ("incident.published", {"id": second, "event_id": 902}),
            ("incident.updated", {"id": first, "event_id": 903}),
        ]
    )
    platform.relay_once()  # the same events again, as the relay would after a crash
    rows = deliveries(platform.factory)
    assert [(r.incident_id, r.kind) for r in rows] == [(first, "alert"), (second, "alert")]
