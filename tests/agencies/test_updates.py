"""Official updates: published in the feed labelled 'agency', through the privacy stage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.people import SEATTLE, TACOMA, admin, officer, operator, register
from tests.support.residents import Mailbox, resident
from tests.support.waiting import wait_for
from townsquare.agencies.models import Agency
from townsquare.audit import AuditEntry
from townsquare.db import utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.incidents.models import Incident

EXACT = (47.61234, -122.33321)


def _outbox(factory: sessionmaker[Session], incident_id: int) -> list[str]:
    with factory() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        return [row.topic for row in rows if row.payload.get("id") == incident_id]


def _in_feed(client: TestClient, incident_id: int) -> dict[str, Any]:
    """The feed item once the outbox relay has brought it to the feed index."""
    url = f"/api/v1/incidents?lat={EXACT[0]}&lon={EXACT[1]}&radius_m=1000"

    def listed() -> list[dict[str, Any]]:
        return [f for f in client.get(url).json()["features"] if f["id"] == incident_id]

    found = wait_for(listed, timeout=10, what=f"incident {incident_id} to reach the feed")
    return dict(found[0]["properties"])


def _update(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "safety.hazard",
        "title": "Gas leak: call 206-555-0142 for Sgt. Miller",
        "summary": "Avoid the area; tips to tips@spd.example. Plate ABC1234 towed.",
        "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "lat": EXACT[0],
        "lon": EXACT[1],
        "address": "1234 Pine St Apt 5",
    }
    return body | changes


def test_an_officer_publishes_corrects_and_withdraws_an_official_update(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    op = operator(app_client, box, factory, "op@townsquare.example")
    register(op, "seattle-police", SEATTLE)
    register(op, "tacoma-police", TACOMA)
    chief = admin(app_client, box, op, "seattle-police", "chief@spd.example")
    cop = officer(app_client, box, chief, "cop@spd.example")
    other = officer(
        app_client, box, admin(app_client, box, op, "tacoma-police", "c@tpd.example"), "o@tpd.ex"
    )
    made = cop.post("/api/v1/agency/updates", json=_update())
    assert made.status_code == 201, made.text
    update = made.json()
    assert (update["origin"], update["provenance"], update["agency"]) == (
        "agency",
        "agency",
        "Seattle-Police",
    )
    assert update["address_block"] == "1200 block of Pine St"
    for text in (update["title"], update["summary"]):
        assert "ABC1234" not in text
        assert "206-555" not in text
        assert "tips@spd.example" not in text
    assert (update["lat"], update["lon"]) != EXACT
    with factory() as session:  # the store holds the public form only
        row = session.get_one(Incident, update["id"])
        assert (row.lat, row.lon) == (update["lat"], update["lon"])
        assert "206-555" not in row.title
    listed = _in_feed(app_client, update["id"])
    assert (listed["origin"], listed["provenance"]) == ("agency", "agency")
    # Another agency's officer cannot touch it; residents cannot publish.
    url = f"/api/v1/agency/updates/{update['id']}"
    assert (
        other.client.patch(url, json={"title": "Mine now"}, headers=other.headers).status_code
        == 404
    )
    ada = resident(app_client, box, "ada@example.org")
    assert ada.post("/api/v1/agency/updates", json=_update()).status_code == 403
    corrected = cop.client.patch(
        url, json={"title": "Gas leak contained", "status": "closed"}, headers=cop.headers
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["title"] == "Gas leak contained"
    assert corrected.json()["status"] == "closed"
    assert corrected.json()["address_block"] == "1200 block of Pine St"
    assert cop.client.request("DELETE", url, headers=cop.headers).status_code == 204
    assert app_client.get(f"/api/v1/incidents/{update['id']}").status_code == 404
    assert cop.client.request("DELETE", url, headers=cop.headers).status_code == 404
    assert _outbox(factory, update["id"]) == [
        "incident.published",
        "incident.closed",
        "incident.removed",
    ]
    with factory() as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "incident")
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == ["agency_update.post", "agency_update.correct", "agency_update.withdraw"]


def test_updates_stay_public_kinds_inside_the_agency_area_from_verified_agencies(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    op = operator(app_client, box, factory, "op@townsquare.example")
    register(op, "seattle-police", SEATTLE)
    cop = officer(
        app_client, box, admin(app_client, box, op, "seattle-police", "c@spd.ex"), "o@x.ex"
    )
    outside = cop.post("/api/v1/agency/updates", json=_update(lat=47.25, lon=-122.44))
    assert outside.status_code == 422
    assert "jurisdiction" in outside.json()["detail"]
    sensitive = cop.post("/api/v1/agency/updates", json=_update(category="medical"))
    assert sensitive.status_code == 422
    assert sensitive.json()["parameter"] == "category"
    later = (utcnow() + timedelta(hours=2)).isoformat()
    assert cop.post("/api/v1/agency/updates", json=_update(occurred_at=later)).status_code == 422
    naive = cop.post("/api/v1/agency/updates", json=_update(occurred_at="2026-11-28T10:00:00"))
    assert naive.status_code == 422
    with factory() as session:  # an agency whose verification is withdrawn by hand: no updates
        session.scalars(select(Agency)).one().verified_at = None
        session.commit()
    assert cop.post("/api/v1/agency/updates", json=_update()).status_code == 403
