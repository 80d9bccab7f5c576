"""`GET /api/v1/places`: suggestions for the search box, public, documented, never logged."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support.places import metres
from townsquare.app import create_app
from townsquare.settings import Settings


def _client(sqlite_template: Path, folder: Path, **settings: object) -> TestClient:
    store = folder / "townsquare.db"
    shutil.copy(sqlite_template, store)
    url = SecretStr(f"sqlite:///{store}")
    return TestClient(create_app(Settings(database_url=url, data_dir=folder, **settings)))


@pytest.fixture(scope="module")
def client(
    sqlite_template: Path, place_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("places-api")
    with _client(sqlite_template, folder, places_index=place_index) as test_client:
        yield test_client


def test_a_corner_is_answered_with_its_point(client: TestClient) -> None:
    response = client.get("/api/v1/places", params={"q": "3rd Ave & Pike St"})
    assert response.status_code == 200
    first = response.json()[0]
    assert first["kind"] == "intersection"
    assert first["name"] == "3rd Avenue & Pike Street"
    assert first["zoom"] == 17
    assert metres((first["lat"], first["lon"]), (47.6097652, -122.3378196)) < 50


def test_a_street_comes_with_a_box_to_fit(client: TestClient) -> None:
    answer = client.get("/api/v1/places", params={"q": "Market St", "limit": 3}).json()
    street = next(place for place in answer if place["kind"] == "street")
    west, south, east, north = street["bbox"]
    assert west < street["lon"] < east
    assert south < street["lat"] < north
    assert len(answer) <= 3


def test_a_point_puts_nearer_answers_first(client: TestClient) -> None:
    near = {"q": "market", "lat": "47.668", "lon": "-122.38"}
    assert client.get("/api/v1/places", params=near).json()[0]["city"] == "Seattle"
    near |= {"lat": "37.7749", "lon": "-122.4194"}
    assert client.get("/api/v1/places", params=near).json()[0]["city"] == "San Francisco"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"q": "  "}, "q"),
        ({}, "q"),
        ({"q": "pike", "lat": "47.6"}, "lon"),
        ({"q": "pike", "lat": "147.6", "lon": "0"}, "lat"),
        ({"q": "pike", "lat": "north"}, "lat"),
        ({"q": "pike", "limit": "500"}, "limit"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_input_is_a_problem(client: TestClient, params: dict[str, str], parameter: str) -> None:
    response = client.get("/api/v1/places", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == parameter


def test_the_route_is_documented(client: TestClient) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/places"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names == {"q", "lat", "lon", "limit"}
    assert {"200", "422", "503"} <= set(operation["responses"])


def test_the_query_is_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/places", params={"q": "Haight-Ashbury secret spot"})
    client.get("/api/v1/places", params={"q": "Haight-Ashbury secret spot", "lat": "91"})
    server = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the test's client
    assert "secret" not in " ".join(f"{r.getMessage()} {r.__dict__}" for r in server)


def test_without_an_index_the_search_says_so(sqlite_template: Path, tmp_path: Path) -> None:
    with _client(sqlite_template, tmp_path) as client:
        response = client.get("/api/v1/places", params={"q": "pike"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "townsquare places build" in response.json()["detail"]
