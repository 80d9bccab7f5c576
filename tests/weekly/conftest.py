"""Weekly summary fixtures: incidents planted in known weeks around a home, the whole app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from townsquare.app import create_app
from townsquare.settings import Settings


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
