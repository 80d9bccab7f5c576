"""Fixtures of the page tests: the whole app over a store holding a few known incidents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests import factories
from townsquare.app import create_app
from townsquare.db import transaction, utcnow
from townsquare.settings import Settings

SEATTLE = (47.6062, -122.3321)
SAN_FRANCISCO = (37.7793, -122.4193)
METRES_PER_DEGREE_LAT = 111_320

# name: (category, title, place, metres north of it, minutes ago, visibility)
ROWS = {
    "collision": ("traffic.collision", "Motor Vehicle Accident", SEATTLE, 0, 10, "public"),
    "fire": ("fire.structure", "Structure Fire", SEATTLE, 400, 30, "public"),
    "alarm": ("fire.alarm", "Automatic Fire Alarm", SEATTLE, -600, 180, "public"),
    "far": ("traffic.collision", "Freeway Collision", SEATTLE, 3500, 5, "public"),
    "sf": ("fire.structure", "Structure Fire", SAN_FRANCISCO, 0, 20, "public"),
    "withheld": ("traffic.collision", "Secret Collision", SEATTLE, 100, 15, "withheld"),
}


@dataclass(frozen=True)
class Seeded:
    """The incidents the test store holds, by name, and when they were stored."""

    ids: dict[str, int]
    now: datetime


def seed(factory: sessionmaker[Session], now: datetime) -> Seeded:
    """Store `ROWS`: two places, one incident withheld, one outside the default radius."""
    ids: dict[str, int] = {}
    with transaction(factory) as session:
        agency = factories.agency(session)
        for name, (category, title, place, north_m, minutes, visibility) in ROWS.items():
            row = factories.incident(
                session,
                lat=place[0] + north_m / METRES_PER_DEGREE_LAT,
                lon=place[1],
                occurred_at=now - timedelta(minutes=minutes),
                category=category,
                visibility=visibility,
                agency_id=agency.id,
                external_id=name,
            )
            row.title = row.original_type = title
            row.alertable_reasons = ["not alerted: 3 h old"]
            ids[name] = row.id
    return Seeded(ids, now)


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> Seeded:
    """The store of the test, holding `ROWS`."""
    return seed(factory, utcnow())


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """Settings pointing at the test store, with no tile server."""
    url = engine.url.render_as_string(hide_password=False)
    return Settings(database_url=SecretStr(url), data_dir=tmp_path, tile_url="")


@pytest.fixture
def client(settings: Settings, seeded: Seeded) -> Iterator[TestClient]:
    """A client of the whole app (lifespan run, so the feed index is built)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
