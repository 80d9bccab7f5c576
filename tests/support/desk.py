"""Desk fixtures: the whole app on the test store, a real SMTP server, local webhooks allowed.

The desk runs the alert loops (relay, matching, delivery) for real, so its app uses the alert
tests' quick loops and lets webhooks reach loopback; `desk_client` is that app.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.alerts import HOME, alert_settings
from tests.support.residents import Mailbox, Person, privileged
from townsquare.app import create_app
from townsquare.audit import AuditEntry
from townsquare.db import transaction, utcnow
from townsquare.platform import Platform
from townsquare.settings import Settings

DESK = "/api/v1/desk"


@pytest.fixture
def desk_settings(engine: Engine, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    """Settings of the resident tests with the alert tests' local webhooks and quick loops."""
    return alert_settings(
        tmp_path,
        database_url=SecretStr(engine.url.render_as_string(hide_password=False)),
        account_mail="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        secret_key=SecretStr("test secret"),
    )


@pytest.fixture
def desk_platform(
    desk_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Platform:
    """The platform the desk's app runs (its relay, matching and delivery loops included)."""
    return Platform(desk_settings, engine, factory)


@pytest.fixture
def desk_client(desk_platform: Platform) -> Iterator[TestClient]:
    """A client of the whole app (lifespan run) on `desk_platform`."""
    with TestClient(create_app(platform=desk_platform)) as client:
        yield client


@pytest.fixture
def curator(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> Person:
    """A moderator signed in with two-factor (the curation team)."""
    return privileged(desk_client, mailbox[0], factory, "cu@example.org", "moderator", utcnow())


def add(
    factory: sessionmaker[Session],
    *,
    minutes_ago: float = 5,
    visibility: str = "public",
    category: str = "fire.structure",
    lat: float = HOME[0],
    lon: float = HOME[1],
) -> int:
    """A dispatch incident the gate did not alert (the factory's default), announced."""
    with transaction(factory) as session:
        row = factories.incident(
            session,
            lat=lat,
            lon=lon,
            occurred_at=utcnow() - timedelta(minutes=minutes_ago),
            category=category,
            visibility=visibility,
        )
        return row.id


def desk_actions(factory: sessionmaker[Session]) -> list[str]:
    """The desk's audited actions, oldest first."""
    with factory() as session:
        rows = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        return [a for a in rows if a.startswith("desk.")]
