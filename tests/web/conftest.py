"""Fixtures of the page tests: the whole app over a store holding a few known incidents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feed import Seeded, seed
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.settings import Settings


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
