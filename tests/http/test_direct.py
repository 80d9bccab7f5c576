"""The hottest routes (`/healthz`, the JSON feed) answered past the router's walk are the same
answers: the same body, headers, problems, log lines and metrics as any route's."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings
from tests.support.waiting import wait_for
from townsquare.app import create_app
from townsquare.http.direct import direct_route
from townsquare.platform import Platform

AREA = "lat=47.61&lon=-122.33&radius_m=2000"


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app) as client:
        yield client


def test_health_answers_as_a_route_and_is_logged_and_counted_by_its_template(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="townsquare.access"):
        response = client.get("/healthz", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200
    assert response.content == b'{"status":"ok"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"] == "probe-1"
    assert [r.getMessage().split()[:3] for r in caplog.records] == [["GET", "/healthz", "200"]]
    metrics = client.get("/metrics").text
    assert (
        'townsquare_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in metrics
    )


def test_the_feed_past_the_router_is_the_feed_with_its_validators_and_problems(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    add_incident(factory)
    feed = f"/api/v1/incidents?{AREA}"
    wait_for(lambda: len(client.get(feed).json()["features"]) == 1, what="the incident in the feed")
    first = client.get(feed, headers={"Origin": "https://city.example"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    assert first.headers["access-control-allow-origin"] == "*"
    again = client.get(
        f"/api/v1/incidents?{AREA}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    bad = client.get("/api/v1/incidents?lat=99&lon=-122.33&radius_m=2000")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    post = client.post(feed)  # other methods take the router's way
    assert post.status_code == 405


def test_a_feed_not_asked_compressed_says_it_varies_by_encoding_and_a_tiny_answer_does_not(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    for _ in range(5):
        add_incident(factory)
    path = f"/api/v1/incidents?{AREA}"
    wait_for(lambda: len(client.get(path).json()["features"]) == 5, what="5 incidents in the feed")
    feed = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in feed.headers
    assert "Accept-Encoding" in feed.headers["vary"]
    health = client.get("/healthz", headers={"Accept-Encoding": "identity"})
    assert "Accept-Encoding" not in health.headers.get("vary", "")


def test_only_a_route_taking_the_request_alone_may_be_direct() -> None:
    router = APIRouter()

    @router.get("/needs")
    async def needs(q: str) -> dict[str, str]:
        return {"q": q}

    with pytest.raises(ValueError, match="/needs"):
        direct_route(router.routes, "/needs")
    with pytest.raises(LookupError):
        direct_route(router.routes, "/nowhere")
