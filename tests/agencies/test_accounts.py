"""Agency accounts: operators register and verify agencies; admins manage officers and keys."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import config
from tests.support.people import SEATTLE, TACOMA, admin, enrolled, officer, operator, register
from tests.support.residents import Mailbox, resident, sign_up
from townsquare.audit import AuditEntry
from townsquare.db import transaction
from townsquare.ingest import pushed, service
from townsquare.ingest.config import SourceConfig


def _actions(factory: sessionmaker[Session]) -> list[tuple[str, dict[str, Any]]]:
    with factory() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.detail) for row in rows]


def test_operators_register_and_verify_agencies_with_a_checked_jurisdiction(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    op = operator(app_client, box, factory, "op@townsquare.example")
    ada = resident(app_client, box, "ada@example.org")
    body = {"slug": "seattle-police", "name": "Seattle Police", "time_zone": "America/Los_Angeles"}
    new = body | {"jurisdiction": SEATTLE}
    assert app_client.post("/api/v1/agencies", json=new).status_code == 401
    assert ada.post("/api/v1/agencies", json=new).status_code == 403
    ring = [[-122.4, 47.5], [-122.3, 47.6], [-122.4, 47.6], [-122.3, 47.5], [-122.4, 47.5]]
    wrong = {
        "bow-tie": {"type": "Polygon", "coordinates": [ring]},
        "open ring": {"type": "Polygon", "coordinates": [SEATTLE["coordinates"][0][:-1]]},
        "lat/lon swapped": {"type": "Polygon", "coordinates": [[[p[1], p[0]] for p in ring]]},
        "a point": {"type": "Point", "coordinates": [-122.3, 47.6]},
    }
    for label, area in wrong.items():
        refused = op.post("/api/v1/agencies", json=body | {"jurisdiction": area})
        assert refused.status_code == 422, label
        assert refused.json()["parameter"] == "jurisdiction", label
    zone = op.post("/api/v1/agencies", json=new | {"time_zone": "Mars/Olympus"})
    assert zone.status_code == 422
    made = op.post("/api/v1/agencies", json=new)
    assert made.status_code == 201, made.text
    assert made.json()["verified"] is False
    assert made.json()["jurisdiction"]["type"] == "MultiPolygon"
    assert op.post("/api/v1/agencies", json=new).status_code == 409
    assert ada.post("/api/v1/agencies/seattle-police/verify").status_code == 403
    verified = op.post("/api/v1/agencies/seattle-police/verify")
    assert verified.status_code == 200
    assert verified.json()["verified"] is True
    listed = app_client.get("/api/v1/agencies").json()
    assert [(a["slug"], a["verified"]) for a in listed] == [("seattle-police", True)]
    assert app_client.get("/api/v1/agencies/nope").status_code == 404
    actions = [a for a, _ in _actions(factory)]
    assert actions[-2:] == ["agency.create", "agency.verify"]


def test_a_feed_registered_agency_is_completed_not_duplicated(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:  # a feed names its agency before anyone registers it
        service.ensure_source(session, config("csv", "/dev/null"))
    op = operator(app_client, mailbox[0], factory, "op@townsquare.example")
    register(op, "test-fire", SEATTLE)
    agency = app_client.get("/api/v1/agencies/test-fire").json()
    assert agency["name"] == "Test-Fire"
    assert agency["verified"] is True
    assert len(app_client.get("/api/v1/agencies").json()) == 1


def test_admins_add_and_remove_officers_of_their_own_agency_only(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    op = operator(app_client, box, factory, "op@townsquare.example")
    register(op, "seattle-police", SEATTLE)
    register(op, "tacoma-police", TACOMA)
    register(op, "unverified-police", SEATTLE, verify=False)
    chief = admin(app_client, box, op, "seattle-police", "chief@spd.example")
    other_chief = admin(app_client, box, op, "tacoma-police", "chief@tpd.example")
    refused = op.post("/api/v1/agencies/unverified-police/admins", json={"email": "ada@x.org"})
    assert refused.status_code == 409
    cop = officer(app_client, box, chief, "cop@spd.example")
    assert cop.client.get("/api/v1/agency/incidents").status_code == 200
    # Officers do not manage their agency; nobody manages another agency.
    assert cop.post("/api/v1/agency/officers", json={"email": "x@y.org"}).status_code == 403
    sign_up(app_client, box, "new@spd.example")
    answer = app_client.post(
        "/api/v1/account/sign-up",
        json={"email": "nolink@spd.example", "password": "correct horse battery"},
    )
    assert answer.status_code == 201
    assert (
        chief.post("/api/v1/agency/officers", json={"email": "nolink@spd.example"}).status_code
        == 404
    )
    assert (
        chief.post("/api/v1/agency/officers", json={"email": "ghost@spd.example"}).status_code
        == 404
    )
    assert (
        other_chief.post("/api/v1/agency/officers", json={"email": "cop@spd.example"}).status_code
        == 409
    )
    members = chief.client.get("/api/v1/agency/members").json()
    assert {(m["email"], tuple(m["roles"])) for m in members} == {
        ("chief@spd.example", ("agency_admin",)),
        ("cop@spd.example", ("agency_officer",)),
    }
    assert (
        other_chief.client.request(
            "DELETE", f"/api/v1/agency/officers/{cop.account_id}", headers=other_chief.headers
        ).status_code
        == 404
    )
    removed = chief.client.request(
        "DELETE", f"/api/v1/agency/officers/{cop.account_id}", headers=chief.headers
    )
    assert removed.status_code == 204
    assert cop.client.get("/api/v1/agency/incidents").status_code == 403  # at once
    # No longer anyone's: another agency may take them on.
    assert (
        other_chief.post("/api/v1/agency/officers", json={"email": "cop@spd.example"}).status_code
        == 201
    )
    revoked = [d for a, d in _actions(factory) if a == "account.revoke_role"]
    assert revoked == [{"role": "agency_officer", "agency": "seattle-police"}]


def _push_source() -> SourceConfig:
    return config(
        "push",
        "",
        agency={"slug": "seattle-police", "name": "SPD", "time_zone": "America/Los_Angeles"},
        push={"format": "json", "key_env": "AGENCY_PUSH_KEY", "secret_env": "AGENCY_PUSH_SECRET"},
    )


def _push(client: TestClient, slug: str, key: str, secret: str, number: str) -> int:
    body = json.dumps(
        [
            {
                "incident_number": number,
                "type": "Motor Vehicle Accident",
                "datetime": "2026-11-28T03:05:00-08:00",
                "address": "1500 Pine St",
                "latitude": "47.6150",
                "longitude": "-122.3300",
            }
        ]
    ).encode()
    stamp = int(time.time())
    headers = {
        "X-Townsquare-Key": key,
        "X-Townsquare-Timestamp": str(stamp),
        "X-Townsquare-Signature": pushed.sign(secret, stamp, body),
        "Content-Type": "application/json",
    }
    return client.post(f"/api/v1/sources/{slug}/records", content=body, headers=headers).status_code


def test_admins_rotate_push_keys_and_old_keys_stop(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = mailbox[0]
    monkeypatch.setenv("AGENCY_PUSH_KEY", "env-key")
    monkeypatch.setenv("AGENCY_PUSH_SECRET", "env-secret")
    op = operator(app_client, box, factory, "op@townsquare.example")
    register(op, "seattle-police", SEATTLE)
    register(op, "tacoma-police", TACOMA)
    source = _push_source()
    with transaction(factory) as session:
        service.ensure_source(session, source)
    chief = admin(app_client, box, op, "seattle-police", "chief@spd.example")
    other_chief = admin(app_client, box, op, "tacoma-police", "chief@tpd.example")
    cop = officer(app_client, box, chief, "cop@spd.example")
    url = f"/api/v1/agency/sources/{source.slug}/key"
    assert _push(app_client, source.slug, "env-key", "env-secret", "E1") == 202
    listed = chief.client.get("/api/v1/agency/sources").json()
    assert listed == [
        {"slug": source.slug, "name": "Test feed", "stored_key": False, "key_created_at": None}
    ]
    assert other_chief.client.get("/api/v1/agency/sources").json() == []
    assert other_chief.post(url).status_code == 404
    assert cop.post(url).status_code == 403
    first = chief.post(url)
    assert first.status_code == 201
    made = first.json()
    assert _push(app_client, source.slug, "env-key", "env-secret", "E2") == 401
    assert _push(app_client, source.slug, made["key"], made["secret"], "K1") == 202
    assert _push(app_client, source.slug, made["key"], "env-secret", "K2") == 401
    second = chief.post(url).json()
    assert second["key"] != made["key"]
    assert _push(app_client, source.slug, made["key"], made["secret"], "K3") == 401
    assert _push(app_client, source.slug, second["key"], second["secret"], "K4") == 202
    assert chief.client.get("/api/v1/agency/sources").json()[0]["stored_key"] is True
    assert chief.client.request("DELETE", url, headers=chief.headers).status_code == 204
    assert _push(app_client, source.slug, second["key"], second["secret"], "K5") == 401
    assert _push(app_client, source.slug, "env-key", "env-secret", "E3") == 401
    actions = [a for a, _ in _actions(factory) if a.startswith("push_key.")]
    assert actions == ["push_key.rotate", "push_key.rotate", "push_key.revoke"]


def test_a_two_factor_resident_without_an_agency_role_manages_nothing(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    person = enrolled(app_client, mailbox[0], "ada@example.org")
    assert person.client.get("/api/v1/agency/members").status_code == 403
    assert person.client.get("/api/v1/agency/sources").status_code == 403
