"""The public feed API: area queries equal brute force, pagination, errors, privacy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.feed import CENTER, scattered
from townsquare import geo
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents import service
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import BBox, Circle, FeedQuery
from townsquare.platform import Platform
from townsquare.settings import Settings


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


def brute_force(rows: list[Incident], query: FeedQuery) -> list[int]:
    """The expected answer: filter every stored public incident, sort, cut."""

    def inside(row: Incident) -> bool:
        area = query.area
        if isinstance(area, Circle):
            d = geo.haversine_m(area.center.lat, area.center.lon, row.lat, row.lon)
            return d <= area.radius_m
        assert isinstance(area, BBox)
        return area.west <= row.lon <= area.east and area.south <= row.lat <= area.north

    hits = [
        r
        for r in rows
        if r.visibility == "public"
        and inside(r)
        and (
            query.category is None
            or r.category == query.category
            or r.category.startswith(query.category + ".")
        )
    ]
    hits.sort(key=lambda r: (r.occurred_at, r.id), reverse=True)
    return [r.id for r in hits[: query.limit]]


queries = st.builds(
    lambda dlat, dlon, radius, limit, category: FeedQuery(
        area=Circle(geo.Point(CENTER[0] + dlat, CENTER[1] + dlon), radius),
        limit=limit,
        category=category,
    ),
    st.floats(-0.12, 0.12),
    st.floats(-0.12, 0.12),
    st.floats(50, 20_000),
    st.integers(1, 60),
    st.sampled_from([None, "fire", "crime", "traffic.collision", "medical"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries)
def test_radius_query_equals_brute_force_on_sql_and_index(
    factory: sessionmaker[Session], stored: list[Incident], query: FeedQuery
) -> None:
    expected = brute_force(stored, query)
    with factory() as session:
        index = service.load_index(session)
        via_sql = [i.id for i in service.query_feed(session, None, query)]
        via_index = [i.id for i in service.query_feed(session, index, query)]
    assert via_sql == expected
    assert via_index == expected


def test_bbox_query_equals_brute_force(
    factory: sessionmaker[Session], stored: list[Incident]
) -> None:
    query = FeedQuery(area=BBox(-122.36, 47.58, -122.30, 47.64), limit=500)
    expected = brute_force(stored, query)
    assert expected, "the box should hold some of the sample"
    with factory() as session:
        index = service.load_index(session)
        assert [i.id for i in service.query_feed(session, None, query)] == expected
        assert [i.id for i in service.query_feed(session, index, query)] == expected


def _all_pages(client: TestClient, params: dict[str, Any]) -> list[int]:
    seen: list[int] = []
    response = client.get("/api/v1/incidents", params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(f["id"] for f in body["features"])
        if not body["next_cursor"]:
            return seen
        response = client.get(body["links"][0]["href"])


def test_pagination_visits_every_incident_once(client: TestClient, stored: list[Incident]) -> None:
    params = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 50_000, "limit": 7}
    seen = _all_pages(client, params)
    public = {r.id for r in stored if r.visibility == "public"}
    assert len(seen) == len(set(seen))
    assert set(seen) == public


def test_pagination_is_stable_while_new_incidents_arrive(
    client: TestClient, platform: Platform, stored: list[Incident]
) -> None:
    params = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 50_000, "limit": 25}
    first = client.get("/api/v1/incidents", params=params).json()
    newest = max(r.occurred_at for r in stored)
    with transaction(platform.factory) as session:
        for minutes in range(5):
            factories.incident(
                session,
                lat=CENTER[0],
                lon=CENTER[1],
                occurred_at=newest + timedelta(minutes=minutes + 1),
            )
    platform.relay_once()
    seen = [f["id"] for f in first["features"]]
    seen += _all_pages(client, {**params, "cursor": first["next_cursor"]})
    assert len(seen) == len(set(seen))
    assert set(seen) == {r.id for r in stored if r.visibility == "public"}


def test_new_incident_reaches_the_index_after_commit_and_relay(
    client: TestClient, platform: Platform, stored: list[Incident]
) -> None:
    newest = max(r.occurred_at for r in stored)
    with transaction(platform.factory) as session:
        fresh = factories.incident(
            session, lat=CENTER[0], lon=CENTER[1], occurred_at=newest + timedelta(hours=1)
        )
    params = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 500, "limit": 1}
    platform.relay_once()
    top = client.get("/api/v1/incidents", params=params).json()["features"]
    assert [f["id"] for f in top] == [fresh.id]
    assert fresh.id in platform.index


def test_withheld_incidents_are_never_served(client: TestClient, stored: list[Incident]) -> None:
    withheld = [r for r in stored if r.visibility == "withheld"]
    assert withheld
    response = client.get(f"/api/v1/incidents/{withheld[0].id}")
    assert response.status_code == 404
    seen = _all_pages(
        client,
        {
            "lat": CENTER[0],
            "lon": CENTER[1],
            "radius_m": 50_000,
            "limit": 200,
            "category": "medical",
        },
    )
    assert seen == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": 10, "lon": -181}, "lon"),
        ({"lat": "north", "lon": 0}, "lat"),
        ({"lon": 0}, "lat"),
        ({"lat": 47, "lon": -122, "radius_m": 10_000_000}, "radius_m"),
        ({"lat": 47, "lon": -122, "radius_m": -5}, "radius_m"),
        ({"lat": 47, "lon": -122, "cursor": "not-a-cursor"}, "cursor"),
        ({"lat": 47, "lon": -122, "limit": 0}, "limit"),
        ({"lat": 47, "lon": -122, "limit": 5000}, "limit"),
        ({"lat": 47, "lon": -122, "category": "crimes"}, "category"),
        ({"lat": 47, "lon": -122, "since": "yesterday"}, "since"),
        ({"lat": 47, "lon": -122, "until": "2024-01-01T00:00:00"}, "until"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "10,50,5,40"}, "bbox"),
    ],
)
def test_bad_parameters_get_a_problem_naming_them(
    client: TestClient, params: dict[str, Any], parameter: str
) -> None:
    response = client.get("/api/v1/incidents", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["parameter"] == parameter
    assert body["status"] == 422


def test_unknown_incident_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/999999")
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"
    assert client.get("/api/v1/incidents/abc").status_code == 422


def test_openapi_and_health(client: TestClient, stored: list[Incident]) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/incidents" in spec["paths"]
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["indexed_incidents"] == sum(1 for r in stored if r.visibility == "public")


def test_api_docs_load_nothing_from_another_host(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
