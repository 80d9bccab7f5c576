"""The redaction manifest each source publishes at /api/v1/sources/{id}/policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from townsquare.app import create_app
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config
from townsquare.platform import Platform
from townsquare.settings import Settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    """The app over a store holding the SF sample, and the Seattle one tightened."""
    service.ingest(factory, load_source_config(MAPPINGS_DIR / "sf_fire_calls.toml"), now=NOW)
    seattle = (
        (MAPPINGS_DIR / "seattle_fire_911.toml")
        .read_text()
        .replace('location = "../../', f'location = "{MAPPINGS_DIR.parent.parent}/')
    )
    path = tmp_path / "seattle.toml"
    path.write_text(
        seattle + "\n[policy.point]\nresolution = 8\n[policy.publication]\ndelay_minutes = 15\n"
    )
    service.ingest(factory, load_source_config(path), now=NOW)
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def test_the_manifest_says_what_is_withheld_and_shown(client: TestClient) -> None:
    by_slug = client.get("/api/v1/sources/sf-fire-calls/policy")
    assert by_slug.status_code == 200
    body = by_slug.json()
    assert client.get(f"/api/v1/sources/{body['source']['id']}/policy").json() == body
    assert body["source"]["agency"] == "San Francisco Fire Department"
    withheld = {c["code"] for c in body["withheld_categories"]}
    assert {"medical", "sensitive.sexual_assault", "sensitive.domestic", "welfare"} <= withheld
    assert "fire.structure" not in withheld
    assert body["figures"] == {
        "public_incidents": 339,
        "withheld_incidents": 622,
        "quarantined_records": 0,
    }
    # Only mapped columns are listed; everything else of the feed is never published.
    assert set(body["published_fields"]) == {
        "CallType",
        "Address",
        "Location",
        "AvailableDtTm",
        "CallDate",
        "UnitID",
        "IncidentNumber",
        "CallNumber",
    }
    assert body["published_fields"]["CallNumber"].startswith("not published")
    assert "Box" not in body["published_fields"]
    assert body["changes"] == []
    assert body["loosen_reason"] is None
    assert any("1200 block of Pine St" in rule for rule in body["rules"])


def test_a_tightened_source_lists_its_changes(client: TestClient) -> None:
    body = client.get("/api/v1/sources/seattle-fire-911/policy").json()
    assert body["changes"] == [
        {"field": "point.resolution", "default": 9, "value": 8, "effect": "tightened"},
        {"field": "publication.delay_minutes", "default": 0, "value": 15, "effect": "tightened"},
    ]
    assert any("15 minutes after the call" in rule for rule in body["rules"])
    assert body["policy"]["point"]["resolution"] == 8


@pytest.mark.parametrize("key", ["nope", "999", "99999999999999999999999"])
def test_an_unknown_source_is_a_404_problem(client: TestClient, key: str) -> None:
    response = client.get(f"/api/v1/sources/{key}/policy")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_manifest_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/sources/{source_id}/policy" in paths
