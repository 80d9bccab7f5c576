"""Filing footage requests over the API: who may, what is public, who is told and how."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.footage import INSIDE, OUTSIDE, camera_owner, make_agency, officer, request_body
from tests.support.residents import Mailbox, resident
from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import TooManyRequests
from townsquare.footage import service
from townsquare.footage.models import FootageRequest
from townsquare.footage.schemas import FileRequest
from townsquare.settings import Settings


def _mail_to(box: Mailbox, address: str) -> list[str]:
    with box.lock:
        found = [raw for _, rcpt, raw in box.messages if address in rcpt]
    bodies = []
    for raw in found:
        payload = message_from_bytes(raw).get_payload(decode=True)
        assert isinstance(payload, bytes)
        bodies.append(payload.decode())
    return bodies


def test_an_unverified_agency_cannot_file(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    make_agency(factory, "shady-police", verified=False)
    cop = officer(app_client, mailbox[0], factory, "cop@shady.example", "shady-police")
    refused = cop.post("/api/v1/footage/requests", json=request_body(utcnow()))
    assert refused.status_code == 403
    assert "not verified" in refused.json()["detail"]
    ada = resident(app_client, mailbox[0], "ada@example.org")
    assert ada.post("/api/v1/footage/requests", json=request_body(utcnow())).status_code == 403


def test_bounds_are_refused_over_the_api_naming_field_and_rule(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@spd.example", "seattle-police")
    now = utcnow()
    cases = {
        "circle": request_body(now, circle={"lat": 47.70, "lon": -122.33, "radius_m": 300}),
        "window_end": request_body(now, window_end=(now + timedelta(hours=1)).isoformat()),
        "expires_at": request_body(now, expires_at=(now + timedelta(days=20)).isoformat()),
        "case_number": {k: v for k, v in request_body(now).items() if k != "case_number"},
    }
    for field, body in cases.items():
        refused = cop.post("/api/v1/footage/requests", json=body)
        assert refused.status_code == 422, field
        assert refused.json()["parameter"] == field
    assert app_client.get("/api/v1/transparency").json()["totals"]["requests_filed"] == 0


def test_a_request_is_public_and_only_residents_in_the_area_are_told(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    near, near_camera = camera_owner(app_client, box, "near@example.org", INSIDE)
    far, _ = camera_owner(app_client, box, "far@example.org", OUTSIDE)
    cop = officer(app_client, box, factory, "cop@spd.example", "seattle-police")
    reason = "Victim Jane Doe was robbed; call 206-555-0100 with anything seen."
    filed = cop.post("/api/v1/footage/requests", json=request_body(utcnow(), reason=reason))
    assert filed.status_code == 201, filed.text
    made = filed.json()
    assert made["residents_notified"] == 1
    assert "Jane" not in made["reason"]
    assert "555-0100" not in made["reason"]
    # A feed item, from the agency.
    item = app_client.get(f"/api/v1/incidents/{made['incident_id']}").json()["properties"]
    assert (item["origin"], item["provenance"]) == ("agency", "agency")
    assert item["category"] == "agency.footage_request"
    assert "Jane" not in item["summary"]
    # The agency's public list of requests.
    page = app_client.get("/api/v1/agencies/seattle-police/footage-requests").json()
    assert page["verified"] is True
    assert [r["case_number"] for r in page["requests"]] == ["2026-123456"]
    assert page["requests"][0]["area"]["square_miles"] > 0.1
    # Mail to the camera owner in the area, none to the one outside.
    mails = _mail_to(box, "near@example.org")
    assert any("Seattle Police" in m and "2026-123456" in m for m in mails)
    assert not any("footage" in m.lower() for m in _mail_to(box, "far@example.org"))
    inbox = near.client.get("/api/v1/footage/inbox").json()
    assert [i["request"]["id"] for i in inbox] == [made["id"]]
    assert inbox[0]["camera_ids"] == [near_camera["id"]]
    assert far.client.get("/api/v1/footage/inbox").json() == []
    # Declining is private: nothing the public or agency sees changes.
    assert near.post(f"/api/v1/footage/requests/{made['id']}/decline").status_code == 204
    after = app_client.get(f"/api/v1/footage/requests/{made['id']}").json()
    assert after == app_client.get(f"/api/v1/footage/requests/{made['id']}").json()
    assert "declined" not in str(after)


def test_names_and_phones_in_a_reason_reach_no_public_place_old_rows_included(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    make_agency(factory, "seattle-police")
    camera_owner(app_client, box, "near@example.org", INSIDE)
    cop = officer(app_client, box, factory, "cop@spd.example", "seattle-police")
    reason = "victim named jane roe was hurt; caller's name is tom baker, cb 206 555 01 00 ext 12"
    made = cop.post("/api/v1/footage/requests", json=request_body(utcnow(), reason=reason)).json()
    public = "victim named [name] was hurt; caller's name is [name], cb [phone]"
    assert made["reason"] == public
    # A row filed under older rules holds what they let through: it leaves scrubbed anyway.
    with factory.begin() as session:
        session.get_one(FootageRequest, made["id"]).reason = reason
    places = [
        app_client.get(f"/api/v1/footage/requests/{made['id']}").text,
        app_client.get("/api/v1/agencies/seattle-police/footage-requests").text,
        app_client.get("/api/v1/transparency").text,
        app_client.get("/api/v1/transparency.csv").text,
        app_client.get(f"/api/v1/incidents/{made['incident_id']}").text,
        *_mail_to(box, "near@example.org"),
    ]
    for place in places:
        for secret in ("jane roe", "tom baker", "206 555", "01 00"):
            assert secret not in place.lower(), place


def test_an_agency_files_at_most_its_daily_quota(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@spd.example", "seattle-police")
    actor = Actor(cop.account_id, frozenset({"agency_officer"}), None, None, True)
    settings = resident_settings.model_copy(update={"footage_requests_per_day": 2})
    now = utcnow()
    body = FileRequest.model_validate(request_body(now))
    with factory() as session:
        service.file_request(session, settings, body, actor=actor, now=now)
        service.file_request(session, settings, body, actor=actor, now=now)
        with pytest.raises(TooManyRequests, match="2 footage requests a day"):
            service.file_request(session, settings, body, actor=actor, now=now)
        # A day later the quota is free again.
        later = now + timedelta(days=1, minutes=1)
        body = FileRequest.model_validate(request_body(later))
        assert service.file_request(session, settings, body, actor=actor, now=later).id
