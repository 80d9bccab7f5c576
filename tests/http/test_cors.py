"""A city's own website can read the public API and feeds from the browser; it cannot write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import alert_settings
from townsquare.app import create_app
from townsquare.platform import Platform

SITE = {"Origin": "https://www.city.example"}
AREA = "lat=47.61&lon=-122.33&radius_m=2000"


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "path", [f"/api/v1/incidents?{AREA}", f"/feeds/atom?{AREA}", "/open311/v2/services.json"]
)
def test_any_site_may_read_public_feeds_and_see_their_validators(
    client: TestClient, path: str
) -> None:
    preflight = client.options(
        path,
        headers={
            **SITE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]
    got = client.get(path, headers=SITE)
    assert got.status_code == 200
    assert got.headers["access-control-allow-origin"] == "*"
    assert "ETag" in got.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in got.headers


def test_no_site_is_allowed_to_write_or_read_pages(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/me/sign-in", headers={**SITE, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    posted = client.post("/api/v1/me/sign-in", json={}, headers=SITE)
    assert "access-control-allow-origin" not in posted.headers
    page = client.get("/", headers=SITE)
    assert "access-control-allow-origin" not in page.headers
