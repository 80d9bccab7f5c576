"""Open311 GeoReport v2 over HTTP: every answer validated, in JSON and in XML, with real posts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import h3
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.georeport import parse_xml, same_in_xml, validate
from tests.support.residents import Mailbox, Person, privileged, resident
from townsquare import geo
from townsquare.db import transaction, utcnow

BASE = "/open311/v2"
HOME = (47.6205, -122.3493)


def both(client: TestClient, path: str, root: str, schema: str, **params: Any) -> Any:
    """GET the JSON and XML forms; validate the JSON, check the XML says the same."""
    as_json = client.get(f"{BASE}/{path}.json", params=params)
    as_xml = client.get(f"{BASE}/{path}.xml", params=params)
    assert as_json.headers["content-type"] == "application/json; charset=utf-8"
    assert as_xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert as_json.status_code == as_xml.status_code
    body = as_json.json()
    validate(schema, body)
    same_in_xml(body, as_xml.content, root)
    return body


def token_of(person: Person) -> str:
    """A personal API token of a signed-in resident."""
    made = person.post("/api/v1/account/tokens", json={"name": "open311 app"})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def form(api_key: str, **changes: str) -> dict[str, str]:
    """A GeoReport POST body as the spec's example sends it, contact fields included."""
    body = {
        "api_key": api_key,
        "jurisdiction_id": "example.org",
        "service_code": "crime.vandalism",
        "lat": str(HOME[0]),
        "long": str(HOME[1]),
        "description": "Bus shelter glass smashed; call me at 206-555-0147",
        "email": "ada@example.org",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "2065550100",
        "device_id": "tt222111",
        "media_url": "http://example.org/a.jpg",
        "attribute[title]": "Bus shelter smashed",
    }
    body.update(changes)
    return body


def test_discovery_services_and_definitions_validate(app_client: TestClient) -> None:
    discovery = both(app_client, "discovery", "discovery", "discovery.json")
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    services = both(app_client, "services", "services", "services.json")
    codes = [s["service_code"] for s in services]
    assert "crime.vandalism" in codes
    assert not [c for c in codes if c.startswith("medical")]  # not open to posts
    for code in codes:
        definition = both(
            app_client, f"services/{code}", "service_definition", "service-definition.json"
        )
        assert definition["service_code"] == code
    asked = {a["code"]: a for a in definition["attributes"]}
    assert {"person_action", "person_descriptors", "suspicious", "could_be"} <= set(asked)
    assert [v["key"] for v in asked["could_be"]["values"]][-1] == "none"
    assert "race" in asked["guidelines"]["description"]
    assert asked["guidelines"]["variable"] is False


def test_unknown_service_code_is_a_georeport_404(app_client: TestClient) -> None:
    for fmt in ("json", "xml"):
        missing = app_client.get(f"{BASE}/services/medical.{fmt}")
        assert missing.status_code == 404
    validate("errors.json", app_client.get(f"{BASE}/services/nope.json").json())
    errors = parse_xml(app_client.get(f"{BASE}/services/nope.xml").content, "errors")
    assert errors[0]["code"] == "404"


def test_a_posted_request_waits_for_moderation_then_reads_public_only(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    key = token_of(ada)
    posted = app_client.post(f"{BASE}/requests.json", data=form(key))
    assert posted.status_code == 200, posted.text
    created = posted.json()
    validate("post-response.json", created)
    rid = created[0]["service_request_id"]
    assert created[0]["account_id"] is None
    mine = ada.client.get("/api/v1/posts/mine").json()
    assert [(p["state"], f"post-{p['id']}") for p in mine] == [("pending", rid)]
    assert mine[0]["title"] == "Bus shelter smashed"
    # Pending: not public, so as if absent, in both formats.
    assert app_client.get(f"{BASE}/requests/{rid}.json").status_code == 404
    assert app_client.get(f"{BASE}/requests/{rid}.xml").status_code == 404
    assert both(app_client, "requests", "service_requests", "requests.json") == []

    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post_id = int(rid.removeprefix("post-"))
    approved = moderator.post(f"/api/v1/moderation/posts/{post_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    one = both(app_client, f"requests/{rid}", "service_requests", "requests.json")
    listed = both(app_client, "requests", "service_requests", "requests.json")
    assert listed == one
    request = one[0]
    validate("request.json", request)
    assert request["service_request_id"] == rid
    assert request["status"] == "open"
    assert request["service_code"] == "crime.vandalism"
    assert "555-0147" not in request["description"]
    # The point is a coarse cell centre, displaced from the exact point; nothing personal.
    lat, lon = request["lat"], request["long"]
    assert (lat, lon) != HOME
    assert geo.haversine_m(HOME[0], HOME[1], lat, lon) > 1
    cell = h3.latlng_to_cell(lat, lon, geo.PUBLIC_RESOLUTION)
    assert tuple(round(v, 6) for v in h3.cell_to_latlng(cell)) == (lat, lon)
    text = str(listed)
    for private in ("ada@example.org", "Ada", "Lovelace", "2065550100", str(HOME[0])):
        assert private not in text
    # The same request is found by its id in the list filter too.
    assert (
        both(app_client, "requests", "service_requests", "requests.json", service_request_id=rid)
        == one
    )


def test_posting_in_xml_answers_in_xml(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    posted = app_client.post(f"{BASE}/requests.xml", data=form(token_of(ada)))
    assert posted.status_code == 200, posted.text
    answer = parse_xml(posted.content, "service_requests")
    assert answer[0]["service_request_id"].startswith("post-")
    assert answer[0]["account_id"] == ""


def test_a_bad_or_missing_api_key_is_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    key = token_of(ada)
    for body in (form("not-a-token"), {k: v for k, v in form(key).items() if k != "api_key"}):
        refused = app_client.post(f"{BASE}/requests.json", data=body)
        assert refused.status_code == 403
        validate("errors.json", refused.json())
        assert refused.json()[0]["code"] == 403
        as_xml = app_client.post(f"{BASE}/requests.xml", data=body)
        assert as_xml.status_code == 403
        assert parse_xml(as_xml.content, "errors")[0]["code"] == "403"
    # A token dies with its session.
    assert ada.post("/api/v1/account/sign-out").status_code == 204
    assert app_client.post(f"{BASE}/requests.json", data=form(key)).status_code == 403
    assert ada.client.get("/api/v1/posts/mine").status_code == 401


def test_guidelines_apply_a_race_only_description_is_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    key = token_of(ada)
    person = {
        "attribute[person_action]": "tried car door handles",
        "attribute[person_descriptors]": "Black male",
    }
    refused = app_client.post(f"{BASE}/requests.json", data=form(key, **person))
    assert refused.status_code == 400
    errors = refused.json()
    validate("errors.json", errors)
    assert errors[0]["code"] == "race_only"
    assert "race or ethnicity alone" in errors[0]["description"]
    as_xml = app_client.post(f"{BASE}/requests.xml", data=form(key, **person))
    assert parse_xml(as_xml.content, "errors")[0]["code"] == "race_only"
    # Two real descriptors (the array syntax of the spec) pass.
    fine = form(key, **{"attribute[person_action]": "tried car door handles"})
    fine |= {"attribute[person_descriptors][]": "red hoodie"}
    items = [*fine.items(), ("attribute[person_descriptors][]", "about 6 ft")]
    accepted = app_client.post(
        f"{BASE}/requests.json",
        content="&".join(f"{k}={v}" for k, v in items).replace(" ", "+").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert accepted.status_code == 200, accepted.text
    post = ada.client.get("/api/v1/posts/mine").json()[0]
    assert post["state"] == "pending"
    assert ada.client.get(f"/api/v1/posts/{post['id']}").json()["lat"] == HOME[0]
    # Without a point there is nothing to post: this server does not geocode.
    nowhere = form(key)
    del nowhere["lat"], nowhere["long"]
    missing = app_client.post(f"{BASE}/requests.json", data=nowhere)
    assert missing.status_code == 400
    assert "lat" in missing.json()[0]["description"]
    unknown = app_client.post(f"{BASE}/requests.json", data=form(key, service_code="medical"))
    assert unknown.status_code == 404


def _dispatch(factory: sessionmaker[Session]) -> dict[str, int]:
    now = utcnow()
    made: dict[str, int] = {}
    with transaction(factory) as session:
        for name, category, age, visibility in (
            ("fire", "fire.structure", timedelta(hours=2), "public"),
            ("crash", "traffic.collision", timedelta(days=3), "public"),
            ("old", "fire.structure", timedelta(days=120), "public"),
            ("withheld", "fire.structure", timedelta(hours=1), "withheld"),
        ):
            row = factories.incident(
                session,
                lat=47.61,
                lon=-122.33,
                occurred_at=now - age,
                category=category,
                visibility=visibility,
            )
            made[name] = row.id
        closed = session.get_one(factories.Incident, made["crash"])
        closed.status, closed.closed_at = "closed", now - timedelta(days=2)
    return made


def _ids(client: TestClient, **params: Any) -> list[str]:
    body = both(client, "requests", "service_requests", "requests.json", **params)
    return [r["service_request_id"] for r in body]


def test_filters_window_and_errors(app_client: TestClient, factory: sessionmaker[Session]) -> None:
    made = {k: str(v) for k, v in _dispatch(factory).items()}
    assert _ids(app_client) == [made["fire"], made["crash"]]  # newest first, last 90 days
    assert _ids(app_client, status="closed") == [made["crash"]]
    assert _ids(app_client, status="open") == [made["fire"]]
    assert _ids(app_client, status="open,closed") == [made["fire"], made["crash"]]
    assert _ids(app_client, service_code="traffic.collision") == [made["crash"]]
    repeated = app_client.get(
        f"{BASE}/requests.json?status=open&status=closed&service_code=fire.structure"
    ).json()
    assert [r["service_request_id"] for r in repeated] == [made["fire"]]
    assert _ids(app_client, service_code="traffic.collision,fire.structure") == [
        made["fire"],
        made["crash"],
    ]
    now = utcnow()
    old_window = {
        "start_date": (now - timedelta(days=150)).isoformat(),
        "end_date": (now - timedelta(days=100)).isoformat(),
    }
    assert _ids(app_client, **old_window) == [made["old"]]
    assert _ids(app_client, end_date=(now - timedelta(days=1)).isoformat()) == [made["crash"]]
    listed = ",".join([made["old"], made["withheld"], made["fire"], "post-999"])
    # Ids override the other filters; withheld and unknown ones are as if absent.
    assert _ids(app_client, service_request_id=listed, status="closed") == [
        made["old"],
        made["fire"],
    ]
    crash = both(app_client, f"requests/{made['crash']}", "service_requests", "requests.json")
    assert crash[0]["status"] == "closed"
    assert crash[0]["address"] == "100 block of Pine St"
    assert app_client.get(f"{BASE}/requests/{made['withheld']}.json").status_code == 404
    for bad in (
        {"status": "pending"},
        {"service_code": "fire.nope"},
        {"start_date": "2024-01-01"},  # no offset
        {"start_date": (now - timedelta(days=100)).isoformat(), "end_date": now.isoformat()},
        {"service_request_id": "12;drop"},
    ):
        refused = app_client.get(f"{BASE}/requests.json", params=bad)
        assert refused.status_code == 400, bad
        validate("errors.json", refused.json())
    assert app_client.get(f"{BASE}/requests.csv").status_code == 404
