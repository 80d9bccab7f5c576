"""Desk fixtures: the whole app on the test store, a real SMTP server, local webhooks allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.alerts.conftest import alert_settings, receiver
from tests.residents import Mailbox, mailbox
from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings

__all__ = ["mailbox", "receiver"]


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
def platform(desk_settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> Platform:
    """The platform the app runs (its relay, matching and delivery loops included)."""
    return Platform(desk_settings, engine, factory)


@pytest.fixture
def app_client(platform: Platform) -> Iterator[TestClient]:
    """A client of the whole app (lifespan run)."""
    with TestClient(create_app(platform=platform)) as client:
        yield client
