"""CAP 1.2 out, fit for real consumers: every message validates against the OASIS schema and
the IPAWS profile and passes the Google Public Alerts profile's rules; updates and cancels
refer back; relayed alerts keep their own words; the Atom index carries GeoRSS points."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from tests.support import schemas
from tests.support.alerts import HOME, add_incident, change_incident
from tests.support.capprofiles import google_profile_reasons
from townsquare import geo
from townsquare.app import create_app
from townsquare.db import transaction, utcnow
from townsquare.formats.cap import HEADLINE_MAX, headline_of
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.capschema import ipaws_schema
from townsquare.ingest.config import bundled_mappings, load_source_config
from townsquare.platform import Platform

CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = "http://www.w3.org/2005/Atom"
GEORSS = "http://www.georss.org/georss"
ALERTS = Path(__file__).parents[1] / "data" / "cap"


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XSD."""
    return schemas.cap_schema()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    """The app on the test store."""
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def cap(client: TestClient, schema: etree.XMLSchema, incident_id: int) -> etree._Element:
    response = client.get(f"/feeds/cap/{incident_id}.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    doc = etree.fromstring(response.content)
    schema.assertValid(doc)
    ipaws_schema().assertValid(doc)
    assert google_profile_reasons(doc) == []
    return doc


def text(doc: etree._Element, path: str) -> str:
    found = doc.findtext(path, namespaces=CAP)
    assert found is not None, path
    return found


def test_alert_then_update_then_cancel_each_valid_and_referring_back(
    client: TestClient, platform: Platform, cap_schema: etree.XMLSchema
) -> None:
    incident_id = add_incident(platform.factory)
    first = cap(client, cap_schema, incident_id)
    assert text(first, "cap:msgType") == "Alert"
    assert text(first, "cap:info/cap:category") == "Fire"
    assert text(first, "cap:info/cap:severity") == "Severe"
    assert text(first, "cap:info/cap:area/cap:circle").endswith(" 0.2")
    original = ",".join(
        [text(first, "cap:sender"), text(first, "cap:identifier"), text(first, "cap:sent")]
    )

    change_incident(platform.factory, incident_id, title="Structure fire, second alarm")
    update = cap(client, cap_schema, incident_id)
    assert text(update, "cap:msgType") == "Update"
    assert text(update, "cap:references") == original
    assert text(update, "cap:identifier") != text(first, "cap:identifier")
    assert text(update, "cap:info/cap:headline").startswith("Structure fire, second alarm")

    change_incident(platform.factory, incident_id, visibility="removed")
    cancel = cap(client, cap_schema, incident_id)
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(cancel, "cap:references") == original
    # Consumers need an info; it says only that the alert is withdrawn, over a coarse district.
    assert text(cancel, "cap:info/cap:event") == "Withdrawn incident"
    assert text(cancel, "cap:info/cap:urgency") == "Past"
    assert "Structure fire" not in etree.tostring(cancel, encoding="unicode")
    assert text(cancel, "cap:info/cap:area/cap:circle").endswith(" 10.0")


def test_every_message_says_when_it_expires_and_what_to_do(
    client: TestClient, platform: Platform, cap_schema: etree.XMLSchema
) -> None:
    doc = cap(client, cap_schema, add_incident(platform.factory))
    sent = datetime.fromisoformat(text(doc, "cap:sent"))
    expires = datetime.fromisoformat(text(doc, "cap:info/cap:expires"))
    assert expires - sent == timedelta(hours=6)
    assert text(doc, "cap:info/cap:instruction")
    assert text(doc, "cap:info/cap:contact") == "Townsquare, http://townsquare.test/"
    assert text(doc, "cap:sender") == "townsquare@townsquare.test"


def test_a_relayed_alert_keeps_its_own_words(
    client: TestClient, platform: Platform, cap_schema: etree.XMLSchema, tmp_path: Path
) -> None:
    now = utcnow().replace(microsecond=0)
    alert = (ALERTS / "tornado_warning.xml").read_text()
    stamps = {"sent": now, "effective": now, "onset": now, "expires": now + timedelta(minutes=40)}
    for tag, moment in stamps.items():
        alert = re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{moment.isoformat()}</{tag}>", alert)
    (tmp_path / "tornado.xml").write_text(alert)
    shipped = load_source_config(bundled_mappings()["nws_cap_alerts"])
    source = shipped.model_copy(update={"location": str(tmp_path / "tornado.xml")})
    service.ingest(platform.factory, source, now=now)
    with platform.factory() as session:
        (incident_id,) = session.scalars(select(Incident.id)).all()
    doc = cap(client, cap_schema, incident_id)
    assert text(doc, "cap:info/cap:event") == "Tornado Warning"
    assert text(doc, "cap:info/cap:category") == "Met"
    assert text(doc, "cap:info/cap:severity") == "Extreme"
    assert text(doc, "cap:info/cap:headline").startswith("Tornado Warning issued December 7")
    assert text(doc, "cap:info/cap:description").startswith("At 302 PM CST, a confirmed tornado")
    assert text(doc, "cap:info/cap:instruction").startswith("TAKE COVER NOW!")
    assert "dispatched" not in etree.tostring(doc, encoding="unicode")
    codes = doc.xpath(
        "cap:info/cap:eventCode[cap:valueName='SAME']/cap:value/text()", namespaces=CAP
    )
    assert codes == ["TOR"]
    assert datetime.fromisoformat(text(doc, "cap:info/cap:expires")) == stamps["expires"]


def test_a_long_headline_is_cut_at_a_word_within_the_profiles_limit() -> None:
    long = "Structure fire with several people reported trapped " * 5
    cut = headline_of(long)
    assert len(cut) <= HEADLINE_MAX
    assert cut.endswith("…")
    assert long.startswith(cut[:-1])
    assert headline_of("Short") == "Short"


def test_withheld_incident_is_absent_from_cap(client: TestClient, platform: Platform) -> None:
    incident_id = add_incident(platform.factory)
    with transaction(platform.factory) as session:
        session.get_one(Incident, incident_id).visibility = "withheld"
    assert client.get(f"/feeds/cap/{incident_id}.xml").status_code == 404
    assert client.get("/feeds/cap/999999.xml").status_code == 404


def test_atom_index_lists_the_areas_cap_alerts_and_validates(
    client: TestClient, platform: Platform, cap_schema: etree.XMLSchema
) -> None:
    alert = add_incident(platform.factory)
    add_incident(platform.factory, alertable=False)
    add_incident(platform.factory, lat=HOME[0] + 0.2, lon=HOME[1])
    platform.relay_once()
    response = client.get("/feeds/cap", params={"lat": HOME[0], "lon": HOME[1], "radius_m": 3000})
    assert response.status_code == 200
    feed = etree.fromstring(response.content)
    schemas.atom_schema().assertValid(feed)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    links = feed.xpath("//a:entry/a:link[@type='application/cap+xml']/@href", namespaces=atom)
    assert links == [f"http://townsquare.test/feeds/cap/{alert}.xml"]
    cap(client, cap_schema, alert)


def test_the_atom_index_carries_georss_points_a_georss_reader_finds(
    client: TestClient, platform: Platform
) -> None:
    add_incident(platform.factory)
    add_incident(platform.factory, lat=HOME[0] + 0.01, lon=HOME[1])
    platform.relay_once()
    response = client.get("/feeds/cap", params={"lat": HOME[0], "lon": HOME[1], "radius_m": 3000})
    # As Home Assistant's georss_client reads a feed: entries, each with a georss:point whose
    # text is "lat lon" in the GeoRSS namespace.
    feed = etree.fromstring(response.content)
    assert feed.nsmap.get("georss") == GEORSS
    points = []
    for entry in feed.iter(f"{{{ATOM}}}entry"):
        point = entry.find(f"{{{GEORSS}}}point")
        assert point is not None
        assert point.text is not None
        lat, lon = (float(part) for part in point.text.split())
        points.append((lat, lon))
    assert len(points) == 2
    assert all(geo.haversine_m(lat, lon, *HOME) < 3000 for lat, lon in points)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert all(entry["where"]["type"] == "Point" for entry in parsed.entries)
