"""Weekly summary fixtures: incidents planted in known weeks around a home, the whole app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests import factories
from tests.residents import mailbox
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.settings import Settings

__all__ = ["mailbox"]

HOME = (47.6100, -122.3300)
FAR = (47.6400, -122.3300)  # about 3.3 km north: outside a 1 km circle around HOME
END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
METRES_PER_DEGREE_LAT = 111_320


def week_ago(weeks: int, end: datetime = END) -> datetime:
    """A moment in the middle of the 7-day window `weeks` weeks before the one ending at `end`."""
    return end - WEEK * weeks - timedelta(days=3, hours=5)


def plant(
    factory: sessionmaker[Session],
    category: str,
    when: datetime,
    *,
    place: tuple[float, float] = HOME,
    visibility: str = "public",
    closed: bool = False,
    count: int = 1,
) -> list[int]:
    """`count` dispatch incidents of `category` at `place`; returns their ids."""
    ids = []
    with transaction(factory) as session:
        for _ in range(count):
            row = factories.incident(
                session,
                lat=place[0],
                lon=place[1],
                occurred_at=when,
                category=category,
                visibility=visibility,
            )
            if closed:
                row.status, row.closed_at = "closed", when + timedelta(hours=1)
            ids.append(row.id)
    return ids


def plant_history(factory: sessionmaker[Session], end: datetime = END) -> None:
    """An incident far away 14 weeks before `end`: the record reaches back past the baseline."""
    plant(factory, "fire.alarm", end - WEEK * 14 - timedelta(days=1), place=(47.0, -121.0))


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """Settings over the test store, no tile server, links to a known site."""
    url = engine.url.render_as_string(hide_password=False)
    return Settings(
        database_url=SecretStr(url),
        data_dir=tmp_path,
        tile_url="",
        public_url="http://townsquare.test",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of the whole app."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
