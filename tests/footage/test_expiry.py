"""A footage request's feed item closes when the request expires, by the periodic release job."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.footage import make_agency, officer, request_body
from tests.support.residents import Mailbox
from townsquare.db import utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.housekeeping.release import release_due


def _closings(factory: sessionmaker[Session], incident_id: int) -> int:
    with factory() as session:
        topics = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.topic == "incident.closed")
        )
        return sum(1 for payload in topics if payload["id"] == incident_id)


def test_an_expired_request_leaves_the_feed_as_closed(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Readers of the feed and the live stream see the request end when it stops being open."""
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@spd.example", "seattle-police")
    filed = cop.post("/api/v1/footage/requests", json=request_body(utcnow()))
    assert filed.status_code == 201, filed.text
    made = filed.json()
    expires_at = datetime.fromisoformat(made["expires_at"])
    item_url = f"/api/v1/incidents/{made['incident_id']}"

    # A minute before the expiry the job leaves it open.
    release_due(factory, now=expires_at - timedelta(minutes=1))
    assert app_client.get(item_url).json()["properties"]["status"] == "active"
    assert _closings(factory, made["incident_id"]) == 0

    # A minute after, the feed item is closed as of the expiry, and the stream is told once.
    later = expires_at + timedelta(minutes=1)
    release_due(factory, now=later)
    release_due(factory, now=later + timedelta(minutes=1))
    item = app_client.get(item_url).json()["properties"]
    assert item["status"] == "closed"
    assert datetime.fromisoformat(item["closed_at"]) == expires_at
    assert _closings(factory, made["incident_id"]) == 1

    # The request's public JSON, read after the expiry, says it is no longer open.
    monkeypatch.setattr("townsquare.footage.views.utcnow", lambda: later)
    public = app_client.get(f"/api/v1/footage/requests/{made['id']}").json()
    assert public["open"] is False
    assert public["incident_id"] == made["incident_id"]
