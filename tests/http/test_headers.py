"""Every response says nosniff; over HTTPS, HSTS and Secure cookies too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import alert_settings
from townsquare.app import create_app
from townsquare.platform import Platform

PATHS = [
    "/api/v1/incidents?lat=47.61&lon=-122.33&radius_m=2000",
    "/feeds/atom?lat=47.61&lon=-122.33&radius_m=2000",
    "/feeds/cap?lat=47.61&lon=-122.33&radius_m=2000",
    "/api/v1/incidents/999999",  # a problem+json 404
    "/open311/v2/services.json",
    "/api/v1/openapi.json",
    "/healthz",
    "/sign-up",
]


def _client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path, url: str) -> TestClient:
    settings = alert_settings(tmp_path).model_copy(update={"public_url": url})
    return TestClient(create_app(platform=Platform(settings, engine, factory)))


@pytest.mark.parametrize("path", PATHS)
def test_every_response_says_nosniff_and_plain_http_gets_no_hsts(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, path: str
) -> None:
    with _client(engine, factory, tmp_path, "http://townsquare.test") as client:
        response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers


def test_over_https_every_response_asks_for_https_and_cookies_are_secure(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with _client(engine, factory, tmp_path, "https://townsquare.test") as client:
        for path in PATHS:
            response = client.get(path)
            assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        form = client.get("/sign-up")
    assert "secure" in form.headers["set-cookie"].lower()
