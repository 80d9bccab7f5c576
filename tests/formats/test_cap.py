"""CAP 1.2: every document validates against the OASIS schema; updates and cancels refer back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.support import schemas
from tests.support.alerts import HOME, add_incident, change_incident
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents.models import Incident
from townsquare.platform import Platform

CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


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
    assert cancel.find("cap:info", namespaces=CAP) is None  # nothing about it is public now


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
