"""A relayed CAP alert reads in its own words wherever an incident is shown: the web page,
the feed list, Atom and GeoJSON carry its event and headline (scrubbed), never a units line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.ingest.test_cap_alerts import CAP, nws_mapping, timed
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.platform import Platform
from townsquare.settings import Settings

HEADLINE = "Tornado Warning issued December 7 at 3:02PM CST"
PHONE = "206-555-0142"
AREA = {"lat": 47.61, "lon": -122.33, "radius_m": 20_000}


@pytest.fixture
def relayed(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    """A client of the app over one relayed Tornado Warning (a phone number in its text)."""
    now = utcnow()
    text = (CAP / "tornado_warning.xml").read_text()
    text = text.replace("Radar confirmed tornado.", f"Radar confirmed tornado. Call {PHONE}.")
    path = timed(
        text, tmp_path / "tornado.xml", now - timedelta(minutes=2), now + timedelta(hours=1)
    )
    service.ingest(factory, nws_mapping(path), now=now)
    with factory() as session:
        (incident_id,) = session.scalars(select(Incident.id)).all()
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as client:
        yield client, incident_id


def test_the_incident_page_and_feed_list_show_the_alerts_event_and_headline(
    relayed: tuple[TestClient, int],
) -> None:
    client, incident_id = relayed
    page = client.get(f"/incidents/{incident_id}").text
    assert "Tornado Warning" in page
    assert HEADLINE in page
    assert "confirmed tornado was located over downtown" in page
    assert "dispatched" not in page
    assert PHONE not in page
    listed = client.get("/fragments/incidents", params=AREA).text
    assert "Tornado Warning" in listed
    assert "dispatched" not in listed


def test_atom_and_geojson_carry_the_alerts_own_words(relayed: tuple[TestClient, int]) -> None:
    client, incident_id = relayed
    (entry,) = feedparser.parse(client.get("/feeds/atom", params=AREA).content).entries
    assert entry["title"].startswith("Tornado Warning")
    assert HEADLINE in entry["summary"]
    assert "dispatched" not in entry["summary"]
    assert PHONE not in entry["summary"]
    (feature,) = client.get("/api/v1/incidents", params=AREA).json()["features"]
    props = feature["properties"]
    assert (feature["id"], props["title"]) == (incident_id, "Tornado Warning")
    assert props["summary"].startswith(HEADLINE)
    assert "dispatched" not in props["summary"]
    assert PHONE not in props["summary"]
