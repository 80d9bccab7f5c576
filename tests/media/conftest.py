"""Fixtures of the media tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.residents import app_with
from townsquare.settings import Settings

LIMITS = {"media_max_video_bytes": 60_000, "media_max_video_s": 1.5}


@pytest.fixture
def limited_client(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The app with small clip limits: 60 kB and 1.5 seconds."""
    with app_with(resident_settings, engine, factory, **LIMITS) as client:
        yield client
