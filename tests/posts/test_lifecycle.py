"""An author edits, closes and deletes their own posts; published posts close on time."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.posts import HOME, submit
from tests.support.residents import Mailbox, Person, privileged, resident
from townsquare.db import utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.housekeeping.retention import run_retention
from townsquare.incidents.models import Incident
from townsquare.posts.models import Post, PostMedia


def _published(author: Person, moderator: Person, **changes: Any) -> dict[str, Any]:
    post = submit(author, **changes).json()
    approved = moderator.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    return dict(author.client.get(f"/api/v1/posts/{post['id']}").json())


def _topics(factory: sessionmaker[Session], incident_id: int) -> list[str]:
    with factory() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        incident_events = (e for e in rows if e.topic.startswith("incident."))
        return [e.topic for e in incident_events if e.payload.get("id") == incident_id]


def _send(person: Person, method: str, url: str, **kwargs: Any) -> Any:
    return person.client.request(method, url, headers=person.headers, **kwargs)


def test_an_edited_published_post_leaves_the_feed_until_approved_again(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    mo = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post = _published(ada, mo)
    incident = f"/api/v1/incidents/{post['incident_id']}"
    assert app_client.get(incident).status_code == 200

    sensitive = _send(ada, "PATCH", f"/api/v1/posts/{post['id']}", json={"category": "medical"})
    assert sensitive.status_code == 422  # the guidelines check runs again
    text = "A car window was smashed; the glass is on the sidewalk."
    edited = _send(ada, "PATCH", f"/api/v1/posts/{post['id']}", json={"description": text})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["state"], edited.json()["description"]) == ("pending", text)
    assert app_client.get(incident).status_code == 404  # words nobody reviewed are not public
    assert [p["id"] for p in mo.client.get("/api/v1/moderation/queue").json()] == [post["id"]]

    assert mo.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={}).status_code == 200
    assert app_client.get(incident).json()["properties"]["summary"] == text
    assert _topics(factory, post["incident_id"]) == [
        "incident.published",
        "incident.removed",
        "incident.published",
    ]


def test_the_author_closes_a_post_and_its_point_expires_with_closed_posts(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    mo = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post = _published(ada, mo)
    closed = ada.post(f"/api/v1/posts/{post['id']}/close")
    assert closed.json()["state"] == "closed"
    assert ada.post(f"/api/v1/posts/{post['id']}/close").status_code == 409
    feature = app_client.get(f"/api/v1/incidents/{post['incident_id']}").json()
    assert feature["properties"]["status"] == "closed"  # readable, out of the live feed
    assert _topics(factory, post["incident_id"])[-1] == "incident.closed"
    run_retention(factory, now=utcnow() + timedelta(days=31))
    mine = ada.client.get(f"/api/v1/posts/{post['id']}").json()
    assert (mine["lat"], mine["lon"]) == (None, None)


def test_the_author_deletes_a_post_and_its_incident_is_retracted(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    bo = resident(app_client, box, "bo@example.org")
    mo = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    photo = ada.post("/api/v1/media", files={"file": ("p.jpg", _jpeg(), "image/jpeg")})
    post = _published(ada, mo, media_ids=[photo.json()["id"]])
    for stranger in (bo, mo):  # as if absent, to a moderator too
        assert _send(stranger, "DELETE", f"/api/v1/posts/{post['id']}").status_code == 404
        assert stranger.post(f"/api/v1/posts/{post['id']}/close").status_code == 404
        patch = _send(stranger, "PATCH", f"/api/v1/posts/{post['id']}", json={"title": "x"})
        assert patch.status_code == 404
    assert _send(ada, "DELETE", f"/api/v1/posts/{post['id']}").status_code == 204
    assert ada.client.get(f"/api/v1/posts/{post['id']}").status_code == 404
    assert app_client.get(f"/api/v1/incidents/{post['incident_id']}").status_code == 404
    assert _topics(factory, post["incident_id"])[-1] == "incident.removed"
    with factory() as session:
        assert session.get(Post, post["id"]) is None
        assert session.scalars(select(PostMedia)).all() == []
        incident = session.get_one(Incident, post["incident_id"])
        assert (incident.visibility, incident.alertable) == ("removed", False)
        assert incident.visibility_reasons == ["deleted by its author"]


def test_published_posts_close_after_post_open_days_with_their_incident(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    mo = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    post = _published(ada, mo)
    pending = submit(ada).json()
    with factory() as session:
        published_at = session.get_one(Post, post["id"]).published_at
    assert published_at is not None
    early = run_retention(factory, now=published_at + timedelta(days=6, hours=23))
    assert early.closed_posts == 0
    late = run_retention(factory, now=published_at + timedelta(days=8))
    assert late.closed_posts == 1
    assert "closed 1 posts open past post_open_days" in late.summary()
    with factory() as session:
        row = session.get_one(Post, post["id"])
        incident = session.get_one(Incident, post["incident_id"])
        # Closed when due, not when the job happened to run.
        assert row.state == "closed"
        assert row.closed_at == published_at + timedelta(days=7)
        assert (incident.status, incident.closed_at) == ("closed", row.closed_at)
        assert row.lat == HOME[0]  # the point is kept for closed_post_point_days
        assert session.get_one(Post, pending["id"]).state == "pending"
    assert _topics(factory, post["incident_id"])[-1] == "incident.closed"
    expired = run_retention(factory, now=published_at + timedelta(days=7 + 30, minutes=1))
    assert expired.deleted["post_points"] == 1
    with factory() as session:
        assert session.get_one(Post, post["id"]).lat is None


def test_my_posts_page_edits_closes_and_deletes_with_a_confirmation(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    mo = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    first, second = _published(ada, mo), submit(ada).json()
    mine = ada.client.get("/posts/mine").text
    for action in ("edit", "close", "delete"):
        assert f'action="/posts/{first["id"]}/{action}"' in mine
    form = {"csrf_token": ada.csrf}
    no_csrf = ada.client.post(f"/posts/{second['id']}/close", follow_redirects=False)
    assert no_csrf.status_code == 403
    edit = {**form, "category": "crime.vandalism", "title": "Window smashed on Pine"}
    edited = ada.client.post(f"/posts/{second['id']}/edit", data=edit, follow_redirects=False)
    assert edited.status_code == 303
    closed = ada.client.post(f"/posts/{second['id']}/close", data=form, follow_redirects=False)
    assert closed.status_code == 303
    unconfirmed = ada.client.post(f"/posts/{first['id']}/delete", data=form)
    assert unconfirmed.status_code == 409
    assert "Tick the box" in unconfirmed.text
    deleted = ada.client.post(
        f"/posts/{first['id']}/delete", data={**form, "confirm": "yes"}, follow_redirects=False
    )
    assert deleted.status_code == 303
    posts = ada.client.get("/api/v1/posts/mine").json()
    assert [(p["id"], p["state"], p["title"]) for p in posts] == [
        (second["id"], "closed", "Window smashed on Pine")
    ]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()
