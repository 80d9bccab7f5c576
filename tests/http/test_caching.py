"""A poller of a feed gets 304 with no body while nothing changed; feeds and static files say
how long they may be kept."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings, change_incident
from tests.support.waiting import wait_for
from townsquare.app import create_app
from townsquare.platform import Platform

AREA = "lat=47.61&lon=-122.33&radius_m=2000"
FEEDS = [f"/api/v1/incidents?{AREA}", f"/feeds/atom?{AREA}", f"/feeds/cap?{AREA}"]


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app) as client:
        yield client


def test_an_unchanged_feed_answers_304_until_an_incident_changes(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    incident_id = add_incident(factory)
    wait_for(lambda: client.get(FEEDS[0]).json()["features"], what="the incident in the feed")
    for path in [*FEEDS, f"/api/v1/incidents/{incident_id}", f"/feeds/cap/{incident_id}.xml"]:
        first = client.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"] == "public, max-age=30"
        etag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b""), path
        assert again.headers["etag"] == etag
        assert client.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    feed = client.get(FEEDS[0])
    modified = feed.headers["last-modified"]
    assert parsedate_to_datetime(modified).year >= 2024
    since = client.get(FEEDS[0], headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    change_incident(factory, incident_id, title="Structure fire, now out")
    changed = wait_for(
        lambda: (
            (r := client.get(FEEDS[0], headers={"If-None-Match": feed.headers["etag"]})).status_code
            == 200
            and r
        ),
        what="the changed feed",
    )
    assert changed.headers["etag"] != feed.headers["etag"]
    assert "now out" in changed.text


def test_static_files_may_be_kept_a_day_and_revalidate(client: TestClient) -> None:
    first = client.get("/static/favicon.svg")
    assert first.headers["cache-control"] == "public, max-age=86400"
    again = client.get("/static/favicon.svg", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=86400"


def test_errors_and_writes_are_not_marked_cacheable(client: TestClient) -> None:
    missing = client.get("/api/v1/incidents/999999")
    assert missing.status_code == 404
    assert "cache-control" not in missing.headers
    assert "etag" not in missing.headers
