"""The feed served from incidents encoded once: same bytes, never stale, ETags that follow."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.feed import CENTER, scattered
from townsquare.agencies.models import Agency
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents import encoded, publish
from townsquare.incidents.models import Incident
from townsquare.platform import Platform
from townsquare.settings import Settings

AREA = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 50_000, "limit": 20}


@pytest.fixture
def platform(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Platform:
    """A platform on the test store."""
    return Platform(Settings(data_dir=tmp_path), engine, factory)


@pytest.fixture
def stored(factory: sessionmaker[Session]) -> list[Incident]:
    """300 clustered incidents, some withheld."""
    return scattered(factory)


@pytest.fixture
def client(platform: Platform, stored: list[Incident]) -> Iterator[TestClient]:
    """An HTTP client on the running app (lifespan: index built from the store)."""
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def _newest(client: TestClient) -> dict[str, Any]:
    features: list[dict[str, Any]] = client.get("/api/v1/incidents", params=AREA).json()["features"]
    return features[0]


def _change(platform: Platform, incident_id: int, action: str) -> None:
    """Change an incident through the publishing actions, then relay its event."""
    with transaction(platform.factory) as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        now = incident.updated_at + timedelta(minutes=5)
        if action == "revise":
            form = replace(publish.form_of(incident), title="Gas leak, road closed")
            publish.revise(session, incident, form, publish.standing_of(incident), now=now)
        elif action == "close":
            publish.close(session, incident, at=now, now=now)
        else:
            publish.remove(session, incident, "withdrawn by its agency", now=now)
    platform.relay_once()


def test_an_update_is_in_the_next_page_and_changes_its_etag(
    client: TestClient, platform: Platform
) -> None:
    first = client.get("/api/v1/incidents", params=AREA)
    etag = first.headers["ETag"]
    again = client.get("/api/v1/incidents", params=AREA, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")

    newest = first.json()["features"][0]
    _change(platform, newest["id"], "revise")
    after = client.get("/api/v1/incidents", params=AREA, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert after.json()["features"][0]["properties"]["title"] == "Gas leak, road closed"
    assert after.headers["Last-Modified"] != first.headers["Last-Modified"]


@pytest.mark.parametrize("action", ["close", "remove"])
def test_a_closed_or_withdrawn_incident_leaves_the_next_page(
    client: TestClient, platform: Platform, action: str
) -> None:
    newest = _newest(client)
    _change(platform, newest["id"], action)
    assert _newest(client)["id"] != newest["id"]
    assert client.get(f"/api/v1/incidents/{newest['id']}").status_code == (
        200 if action == "close" else 404
    )


def test_a_new_incident_is_encoded_when_published(
    client: TestClient, platform: Platform, stored: list[Incident]
) -> None:
    with transaction(platform.factory) as session:
        fresh = factories.incident(
            session,
            lat=CENTER[0],
            lon=CENTER[1],
            occurred_at=max(r.occurred_at for r in stored) + timedelta(hours=1),
        )
    platform.relay_once()
    assert platform.encoded.get(fresh.id) is not None
    assert _newest(client)["id"] == fresh.id


def test_pages_are_the_bytes_the_search_path_would_render(client: TestClient) -> None:
    """The encoded page and the page built from rows (a `q=` every incident matches) agree."""
    params = {**AREA, "category": "fire"}
    fast = client.get("/api/v1/incidents", params=params)
    slow = client.get("/api/v1/incidents", params={**params, "q": "fire"})
    assert fast.json()["features"]
    assert fast.json()["features"] == slow.json()["features"]
    assert fast.headers["Last-Modified"] == slow.headers["Last-Modified"]
    assert fast.json()["next_cursor"] == slow.json()["next_cursor"]


def test_concurrent_requests_get_their_own_pages(client: TestClient) -> None:
    areas = [{**AREA, "radius_m": r, "limit": n} for r in (500, 2_000, 50_000) for n in (1, 7)]
    expected = [client.get("/api/v1/incidents", params=a).content for a in areas]
    client.app.state.platform.encoded.clear()  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda a: client.get("/api/v1/incidents", params=a).content, areas * 4))
    assert got == expected * 4


def test_a_renamed_agency_shows_in_the_feed_within_a_minute(
    client: TestClient, platform: Platform
) -> None:
    """A rename sends no event about the agency's incidents: their bytes are read again once
    they are a minute old, not kept for as long as the process runs."""
    now = [1000.0]
    platform.encoded.clock = lambda: now[0]
    platform.relay_once()  # the stored incidents' events: none left to drop a kept entry
    newest = _newest(client)
    assert platform.encoded.get(newest["id"]) is not None  # kept: the next page reuses it
    with transaction(platform.factory) as session:
        incident = session.get(Incident, newest["id"])
        assert incident is not None
        assert incident.agency_id is not None
        agency = session.get(Agency, incident.agency_id)
        assert agency is not None
        agency.name = "Metro Emergency Communications"
    now[0] += encoded.MAX_AGE_S
    after = _newest(client)
    assert after["id"] == newest["id"]
    assert after["properties"]["agency"] == "Metro Emergency Communications"
    assert newest["properties"]["agency"] != after["properties"]["agency"]
