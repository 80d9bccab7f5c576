"""The moderation queue and its actions: only moderators, each one an audit entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.posts import submit
from tests.support.residents import Mailbox, privileged, resident
from townsquare import audit
from townsquare.db import utcnow


def test_residents_cannot_see_the_queue(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    assert ada.client.get("/api/v1/moderation/queue").status_code == 403


def test_queue_shows_pending_posts_with_flags_and_actions_are_audited(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    person = {"action": "tried door handles", "descriptors": ["white", "green cap", "tall"]}
    post_id = submit(ada, person=person).json()["id"]
    queue = moderator.client.get("/api/v1/moderation/queue").json()
    assert [p["id"] for p in queue] == [post_id]
    assert "mentions_race" in [c["code"] for c in queue[0]["checks"]]
    base = f"/api/v1/moderation/posts/{post_id}"
    assert moderator.post(f"{base}/reject", json={}).status_code == 409  # a reason is required
    assert moderator.post(f"{base}/approve", json={}).json()["state"] == "published"
    incident_id = ada.client.get(f"/api/v1/posts/{post_id}").json()["incident_id"]
    assert app_client.get(f"/api/v1/incidents/{incident_id}").status_code == 200
    removed = moderator.post(f"{base}/remove", json={"reason": "names a neighbour"})
    assert removed.json()["state"] == "removed"
    assert app_client.get(f"/api/v1/incidents/{incident_id}").status_code == 404
    assert moderator.post(f"{base}/restore", json={}).json()["state"] == "published"
    assert app_client.get(f"/api/v1/incidents/{incident_id}").status_code == 200
    assert moderator.client.get("/api/v1/moderation/queue").json() == []
    with factory() as session:
        actions = [e.action for e in audit.entries_about(session, ada.account_id)]
        assert actions[-4:] == ["post.submit", "post.approve", "post.remove", "post.restore"]
        assert audit.verify(session).ok


def test_moderators_get_the_public_point_and_the_exact_one_only_with_a_logged_reason(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post = submit(ada, description="Call me at 206-555-0147 if you saw it").json()
    exact = (post["lat"], post["lon"])
    [queued] = moderator.client.get("/api/v1/moderation/queue").json()
    assert not {"lat", "lon"} & set(queued)
    assert (queued["point"]["lat"], queued["point"]["lon"]) != exact
    assert "555-0147" not in queued["description"]  # scrubbed as the public would read it
    assert moderator.client.get(f"/api/v1/posts/{post['id']}").status_code == 404
    url = f"/api/v1/moderation/posts/{post['id']}/exact-point"
    assert moderator.post(url, json={"reason": "why"}).status_code == 422  # a real reason
    assert ada.post(url, json={"reason": "I am curious about it"}).status_code == 403
    reason = "the text gives a phone number; checking it is not a neighbour"
    shown = moderator.post(url, json={"reason": reason}).json()
    assert (shown["lat"], shown["lon"]) == exact
    assert "206-555-0147" in shown["description"]
    approved = moderator.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={})
    assert "lat" not in approved.json()
    log = ada.client.get("/api/v1/me/access-log").json()
    assert [(e["action"], e["by"]) for e in log] == [
        ("post.approve", "moderator"),
        ("post.reveal", "moderator"),
    ]
    assert log[1]["detail"] == {"reason": reason}
    page = ada.client.get("/account/access-log").text
    assert reason in page
    assert "<td>moderator</td>" in page
    assert "<td>operator</td>" not in page
