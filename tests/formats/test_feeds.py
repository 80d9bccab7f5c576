"""GeoJSON and Atom as the feeds serve them: each validates against its published schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import jsonschema
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feed import CENTER, scattered
from tests.support.schemas import SCHEMAS, atom_schema
from townsquare import geo
from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    """An HTTP client on the running app over 300 scattered incidents (index built at start)."""
    scattered(factory)
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def test_geojson_validates_and_carries_public_fields(client: TestClient) -> None:
    response = client.get(
        "/api/v1/incidents", params={"lat": CENTER[0], "lon": CENTER[1], "radius_m": 20_000}
    )
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    schema = json.loads((SCHEMAS / "geojson" / "FeatureCollection.json").read_text())
    jsonschema.validate(body, schema)
    props = body["features"][0]["properties"]
    for key in (
        "id",
        "category",
        "category_label",
        "title",
        "address_block",
        "occurred_at",
        "published_at",
        "status",
        "provenance",
        "agency",
    ):
        assert key in props
    assert props["occurred_at"].endswith("Z") or props["occurred_at"].endswith("+00:00")
    assert props["provenance"] == "dispatch-confirmed"
    one = client.get(f"/api/v1/incidents/{props['id']}").json()
    jsonschema.validate(one, json.loads((SCHEMAS / "geojson" / "Feature.json").read_text()))


def test_atom_validates_against_rfc4287_and_parses(client: TestClient) -> None:
    response = client.get(
        "/feeds/atom",
        params={"lat": CENTER[0], "lon": CENTER[1], "radius_m": 5000, "category": "fire"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    schema = atom_schema()
    document = etree.fromstring(response.content)
    assert schema.validate(document), schema.error_log
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries
    entry = parsed.entries[0]
    assert entry["where"]["type"] == "Point"
    lon, lat = entry["where"]["coordinates"]  # feedparser turns GeoRSS "lat lon" into x, y
    assert geo.haversine_m(lat, lon, CENTER[0], CENTER[1]) <= 5000 + 1
    assert all(e["tags"][0]["term"].startswith("fire") for e in parsed.entries)
