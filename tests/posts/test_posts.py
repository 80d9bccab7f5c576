"""Posting under the community guidelines, over the API, as a resident would."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.posts import HOME, draft, submit
from tests.support.residents import Mailbox, privileged, resident
from townsquare import geo
from townsquare.db import transaction, utcnow
from townsquare.incidents import publish
from townsquare.incidents.models import Incident


def test_a_post_is_pending_and_its_author_sees_it_in_full(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    response = submit(ada)
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["state"] == "pending"
    assert (post["lat"], post["lon"]) == HOME
    assert [p["id"] for p in ada.client.get("/api/v1/posts/mine").json()] == [post["id"]]


def test_another_resident_cannot_read_a_post_nor_the_public_before_approval(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    bo = resident(app_client, mailbox[0], "bo@example.org")
    post_id = submit(ada).json()["id"]
    assert bo.client.get(f"/api/v1/posts/{post_id}").status_code == 404
    assert app_client.get(f"/api/v1/posts/{post_id}").status_code == 401
    assert app_client.get(f"/api/v1/posts/{post_id}/public").status_code == 404


def test_race_only_description_cannot_be_submitted(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    person = {"action": "tried car door handles", "descriptors": ["Black male"]}
    refused = submit(ada, person=person)
    assert refused.status_code == 422
    assert refused.json()["parameter"] == "race_only"
    assert "race or ethnicity alone" in refused.json()["detail"]
    assert ada.client.get("/api/v1/posts/mine").json() == []


def test_a_person_needs_an_action_and_two_other_descriptors(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    one = submit(ada, person={"action": "tried door handles", "descriptors": ["red hoodie"]})
    assert one.status_code == 422
    assert "two descriptors" in one.json()["detail"]
    idle = submit(ada, person={"action": "", "descriptors": ["red hoodie", "tall"]})
    assert "what the person did" in idle.json()["detail"]
    fine = {
        "action": "tried car door handles",
        "descriptors": ["Hispanic", "red hoodie", "about 6 ft"],
    }
    accepted = submit(ada, person=fine)
    assert accepted.status_code == 201
    assert "mentions_race" in [c["code"] for c in accepted.json()["checks"]]


def test_suspicious_person_asks_and_routes_benign_answers_to_fyi(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    person = {"action": "walked up to porches", "descriptors": ["hi-vis vest", "clipboard"]}
    asked = submit(ada, person={**person, "suspicious": True})
    assert asked.status_code == 422
    assert "delivery, a solicitor, a utility worker or a neighbour" in asked.json()["detail"]
    fyi = submit(ada, person={**person, "suspicious": True, "could_be": "utility"}).json()
    assert fyi["fyi"] is True
    assert fyi["alertable"] is False


def test_time_is_required_and_old_posts_are_not_alerted(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    body = draft()
    del body["occurred_at"]
    assert ada.post("/api/v1/posts", json=body).status_code == 422
    old = submit(ada, occurred_at=(utcnow() - timedelta(hours=3)).isoformat()).json()
    assert old["alertable"] is False
    assert "over an hour old" in old["alert_reasons"][0]


def test_posting_is_rate_limited(app_client: TestClient, mailbox: tuple[Mailbox, int]) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    for _ in range(5):
        assert submit(ada).status_code == 201
    limited = submit(ada)
    assert limited.status_code == 429


def test_unverified_accounts_cannot_post(app_client: TestClient) -> None:
    app_client.post(
        "/api/v1/account/sign-up", json={"email": "nv@example.org", "password": "x" * 12}
    )
    login = app_client.post(
        "/api/v1/account/sign-in", json={"email": "nv@example.org", "password": "x" * 12}
    ).json()
    refused = app_client.post(
        "/api/v1/posts", json=draft(), headers={"X-CSRF-Token": login["csrf_token"]}
    )
    assert refused.status_code == 403


def test_published_post_is_scrubbed_displaced_and_corroborated(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    now = utcnow()
    with transaction(factory) as session:
        dispatch = factories.incident(
            session, lat=HOME[0] + 0.001, lon=HOME[1], occurred_at=now, category="crime.theft"
        )
        dispatch_id = dispatch.id
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", now)
    post = submit(
        ada,
        description="Call me at 206-555-0147, plate ABC1234 drove off",
        occurred_at=(now - timedelta(minutes=5)).isoformat(),
    ).json()
    approved = moderator.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    public = app_client.get(f"/api/v1/posts/{post['id']}/public").json()
    assert "555-0147" not in public["description"]
    assert "ABC1234" not in public["description"]
    assert public["provenance"] == "resident, corroborated by dispatch"
    assert public["corroborated_by"] == dispatch_id
    feature = app_client.get(f"/api/v1/incidents/{approved.json()['incident_id']}").json()
    incident = feature["properties"]
    assert incident["origin"] == "resident"
    # The feed item says what the post says: corroborated, with the dispatch call it links.
    assert incident["provenance"] == "resident, corroborated by dispatch"
    assert incident["corroborated_by"] == dispatch_id
    lon, lat = feature["geometry"]["coordinates"]
    assert geo.haversine_m(HOME[0], HOME[1], lat, lon) > 1
    assert "555-0147" not in incident["summary"]


def test_the_feed_stops_naming_a_corroborating_call_once_it_is_removed(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    now = utcnow()
    with transaction(factory) as session:
        dispatch = factories.incident(
            session, lat=HOME[0] + 0.001, lon=HOME[1], occurred_at=now, category="crime.theft"
        )
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", now)
    post = submit(ada, occurred_at=(now - timedelta(minutes=5)).isoformat()).json()
    approved = moderator.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={})
    resident_id = approved.json()["incident_id"]
    platform = app_client.app.state.platform  # type: ignore[attr-defined]
    area = {"lat": HOME[0], "lon": HOME[1], "radius_m": 2_000}

    def corroboration() -> object:
        platform.relay_once()
        features = app_client.get("/api/v1/incidents", params=area).json()["features"]
        (mine,) = [f for f in features if f["id"] == resident_id]
        return mine["properties"]["corroborated_by"]

    assert corroboration() == dispatch.id
    with transaction(factory) as session:
        row = session.get(Incident, dispatch.id)
        assert row is not None
        publish.remove(session, row, "withdrawn by its agency", now=utcnow())
    assert corroboration() is None


def test_a_rejected_post_can_be_appealed_once(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post_id = submit(ada).json()["id"]
    reject = moderator.post(
        f"/api/v1/moderation/posts/{post_id}/reject", json={"reason": "not a safety matter"}
    )
    assert reject.json()["state"] == "rejected"
    assert ada.client.get(f"/api/v1/posts/{post_id}").json()["reason"] == "not a safety matter"
    appeal = ada.post(f"/api/v1/posts/{post_id}/appeal", json={"reason": "it was a break-in"})
    assert appeal.json()["state"] == "pending"
    moderator.post(f"/api/v1/moderation/posts/{post_id}/reject", json={"reason": "still no"})
    again = ada.post(f"/api/v1/posts/{post_id}/appeal", json={"reason": "please"})
    assert again.status_code == 409
