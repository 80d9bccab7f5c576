"""The moderation queue and its actions: only moderators, each one an audit entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.posts.test_posts import submit
from tests.residents import Mailbox, privileged, resident
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
