"""Alert fixtures and helpers: a platform on the test store, subscriptions, incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.waiting import wait_for
from townsquare.alerts import delivery, service
from townsquare.alerts.channels import build_senders
from townsquare.alerts.models import Delivery
from townsquare.alerts.schemas import SubscriptionCreated, SubscriptionIn
from townsquare.db import transaction, utcnow
from townsquare.events.outbox import OutboxEvent
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


def run_worker(platform: Platform, settings: Settings, rounds: int = 1, step_s: float = 0) -> None:
    """Run the delivery worker `rounds` times, moving its clock `step_s` on each time."""
    now = utcnow()
    senders = build_senders(settings)
    for _ in range(rounds):
        delivery.deliver_due(platform.factory, senders, settings=settings, now=now)
        now += timedelta(seconds=step_s)


def unsettled(factory: sessionmaker[Session]) -> tuple[int, int]:
    """How many outbox events wait for the relay, and how many deliveries are yet to be sent."""
    with factory() as session:
        unrelayed = session.scalar(select(func.count()).where(OutboxEvent.relayed_at.is_(None)))
        pending = session.scalar(
            select(func.count()).where(Delivery.status.in_(["queued", "retrying"]))
        )
    return unrelayed or 0, pending or 0


def wait_until_settled(factory: sessionmaker[Session], timeout: float = 30.0) -> None:
    """Wait until every outbox event is relayed and every delivery reached a final state.

    On the in-process bus, relaying an event runs the matching that decides its deliveries,
    and a delivery once `sent` (or `dead`) is never claimed again: a settled store sends
    nothing more, so a count taken then is the final count.
    """
    wait_for(
        lambda: unsettled(factory) == (0, 0),
        timeout=timeout,
        what="every event relayed and every delivery sent or given up (unrelayed, due)",
    )
