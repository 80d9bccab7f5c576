"""Data rights over HTTP: download my data (complete, media bytes too), delete my account."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.clips import finish_clips
from tests.support.residents import PASSWORD, Mailbox, Person, privileged, resident, sign_in
from townsquare import audit
from townsquare.accounts.models import AccountSession
from townsquare.alerts.models import Subscription
from townsquare.audit import AuditEntry
from townsquare.cli import app
from townsquare.db import transaction, utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.feedback.models import Feedback
from townsquare.housekeeping.retention import run_retention
from townsquare.incidents.models import Incident
from townsquare.media.models import Media
from townsquare.media.service import store_of
from townsquare.posts.models import Post
from townsquare.settings import Settings

HOME = (47.6205, -122.3493)


def photo(colour: tuple[int, int, int]) -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def upload(person: Person, data: bytes) -> int:
    """Upload a photo; its media id."""
    made = person.post("/api/v1/media", files={"file": ("p.png", data, "image/png")})
    assert made.status_code == 201, made.text
    finish_clips(person.client)  # photos are blurred by the media job, as clips are
    return int(made.json()["id"])


def subscribe(client: TestClient, email: str) -> int:
    """A watch area alerting `email`."""
    made = client.post(
        "/api/v1/subscriptions",
        json={
            "name": "Home",
            "area": {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 500},
            "channels": [{"kind": "email", "address": email}],
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["subscription"]["id"])


def published_post(
    ada: Person, moderator: Person, media_ids: list[int], **changes: Any
) -> dict[str, Any]:
    """A post of Ada's with photos, approved; the author's view of it."""
    body = {
        "category": "crime.vandalism",
        "title": "Car window smashed",
        "description": "Someone broke the window of a parked car and ran north.",
        "occurred_at": (utcnow() - timedelta(minutes=10)).isoformat(),
        "lat": HOME[0],
        "lon": HOME[1],
        "media_ids": media_ids,
    } | changes
    made = ada.post("/api/v1/posts", json=body)
    assert made.status_code == 201, made.text
    approved = moderator.post(f"/api/v1/moderation/posts/{made.json()['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    return dict(approved.json())


def mark_alert(factory: sessionmaker[Session], person: Person, incident_id: int) -> None:
    """Send the incident as an alert, and have `person` mark it inaccurate."""
    with transaction(factory) as session:
        session.execute(update(Incident).where(Incident.id == incident_id).values(alertable=True))
    marked = person.post(
        f"/api/v1/incidents/{incident_id}/feedback", json={"verdict": "inaccurate"}
    )
    assert marked.status_code == 200, marked.text


def export(person: Person) -> zipfile.ZipFile:
    """GET my export as an open ZIP."""
    answer = person.client.get("/api/v1/me/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(answer.content))


def read(archive: zipfile.ZipFile, name: str) -> Any:
    """One JSON file of the export."""
    return json.loads(archive.read(name))


def blob(settings: Settings, key: str) -> Path:
    """Where the blob store keeps a key."""
    return Path(settings.data_dir) / "media" / key[:2] / key


def test_export_is_complete_with_exact_points_and_media_bytes(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    original = photo((200, 40, 40))
    media_id = upload(ada, original)
    post = published_post(ada, moderator, [media_id])
    sub_id = subscribe(app_client, "Ada@Example.org")
    subscribe(app_client, "someone@example.org")
    mark_alert(factory, ada, post["incident_id"])

    archive = export(ada)
    names = set(archive.namelist())
    expected = {"README.txt", "account.json", "posts.json", "media.json", "subscriptions.json"}
    assert expected | {"audit.json"} <= names
    account = read(archive, "account.json")
    assert account["account"]["email"] == "ada@example.org"
    assert "password_hash" not in account["account"]
    assert "token_hash" not in account["sessions"][0]
    assert "csrf_token" not in account["sessions"][0]
    [mine] = read(archive, "posts.json")
    assert (mine["id"], mine["lat"], mine["lon"]) == (post["id"], HOME[0], HOME[1])
    assert mine["media_ids"] == [media_id]
    assert mine["state"] == "published"
    [listed] = read(archive, "media.json")
    assert archive.read(listed["files"]["original"]) == original
    public = archive.read(listed["files"]["public"])
    assert public == ada.client.get(f"/api/v1/media/{media_id}").content
    assert [s["id"] for s in read(archive, "subscriptions.json")] == [sub_id]
    [vote] = read(archive, "feedback.json")
    assert (vote["incident_id"], vote["verdict"]) == (post["incident_id"], "inaccurate")
    # Who touched my data: the moderator's approval is there, not by me.
    entries = read(archive, "audit.json")
    approval = [e for e in entries if e["action"] == "post.approve"]
    assert approval
    assert approval[0]["by_you"] is False
    assert approval[0]["actor_id"] == moderator.account_id
    assert {"media.upload", "post.submit", "account.sign_up"} <= {e["action"] for e in entries}
    # The export itself is audited, and the next export shows it.
    later = read(export(ada), "audit.json")
    assert "account.export" in {e["action"] for e in later}


def _count(factory: sessionmaker[Session], model: type[Any], *where: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_delete_erases_the_person_and_keeps_the_fact(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    bo = resident(app_client, box, "bo@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    shared = photo((10, 120, 10))
    own_id, shared_id = upload(ada, photo((200, 40, 40))), upload(ada, shared)
    bo_id = upload(bo, shared)  # the same bytes: the same content addresses
    post = published_post(ada, moderator, [own_id, shared_id])
    incident_id = post["incident_id"]
    subscribe(app_client, "ada@example.org")
    bo_sub = subscribe(app_client, "bo@example.org")
    with factory() as session:
        own = session.get_one(Media, own_id)
        own_keys = [own.original_key, own.public_key]
        shared_row, bo_row = session.get_one(Media, shared_id), session.get_one(Media, bo_id)
        shared_keys = [shared_row.original_key, shared_row.public_key]
        assert shared_keys == [bo_row.original_key, bo_row.public_key]
    assert app_client.get(f"/api/v1/incidents/{incident_id}").status_code == 200
    mark_alert(factory, ada, incident_id)
    mark_alert(factory, bo, incident_id)
    token = ada.post("/api/v1/account/tokens", json={"name": "script"}).json()["token"]

    # The cookie needs its CSRF token, a token the password; a wrong password is refused.
    assert ada.client.request("DELETE", "/api/v1/me").status_code == 403
    bearer = {"Authorization": f"Bearer {token}"}
    assert app_client.request("DELETE", "/api/v1/me", headers=bearer).status_code == 403
    wrong = ada.client.request(
        "DELETE", "/api/v1/me", headers=ada.headers, json={"password": "not it at all"}
    )
    assert wrong.status_code == 403
    gone = ada.client.request(
        "DELETE", "/api/v1/me", headers=ada.headers, json={"password": PASSWORD}
    )
    assert gone.status_code == 204, gone.text

    # Out of the public feed, through the outbox like a moderator's removal.
    assert app_client.get(f"/api/v1/incidents/{incident_id}").status_code == 404
    feed = app_client.get(
        "/api/v1/incidents", params={"lat": HOME[0], "lon": HOME[1], "radius_m": 3000}
    ).json()
    assert incident_id not in [f["properties"]["id"] for f in feed["features"]]
    assert app_client.get(f"/api/v1/posts/{post['id']}/public").status_code == 404
    topics = _count(
        factory,
        OutboxEvent,
        OutboxEvent.topic == "incident.removed",
        OutboxEvent.payload["id"].as_integer() == incident_id,
    )
    assert topics == 1
    # Blobs: Ada's own are erased; the bytes Bo also uploaded stay, and Bo still reads them.
    assert not [k for k in own_keys if blob(resident_settings, k).exists()]
    assert all(blob(resident_settings, k).exists() for k in shared_keys)
    assert bo.client.get(f"/api/v1/media/{bo_id}/original").content == shared
    assert _count(factory, Post) == 0
    assert _count(factory, Media) == 1
    # Subscriptions: Ada's watch area is gone, Bo's stays.
    with factory() as session:
        assert [s.id for s in session.scalars(select(Subscription))] == [bo_sub]
    # Signed out everywhere, and no sign-in afterwards.
    assert ada.client.get("/api/v1/account").status_code == 401
    assert app_client.get("/api/v1/account", headers=bearer).status_code == 401
    refused = app_client.post(
        "/api/v1/account/sign-in", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 401
    # The audit keeps the fact, no personal data, and the chain verifies (CLI too).
    with factory() as session:
        assert audit.verify(session).ok
        entries = list(session.scalars(select(AuditEntry)))
    deleted = [e for e in entries if e.action == "account.delete"]
    assert [(e.actor_id, e.object_id, e.subject_id) for e in deleted] == [
        (ada.account_id, str(ada.account_id), None)
    ]
    assert deleted[0].detail == {"posts": 1, "media": 2, "subscriptions": 1, "feedback": 1}
    assert _count(factory, Feedback) == 1  # Bo's mark stays; Ada's is gone
    assert "ada@example.org" not in json.dumps([e.detail for e in entries])
    assert not [e for e in entries if e.subject_id == ada.account_id]
    url = engine.url.render_as_string(hide_password=False)
    env = {"TOWNSQUARE_DATABASE_URL": url, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output


def test_a_recent_sign_in_deletes_without_the_password_an_old_one_needs_it(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    cy = resident(app_client, mailbox[0], "cy@example.org")
    with transaction(factory) as session:
        session.execute(
            update(AccountSession)
            .where(AccountSession.account_id == cy.account_id)
            .values(created_at=utcnow() - timedelta(minutes=16))
        )
    assert cy.client.request("DELETE", "/api/v1/me", headers=cy.headers).status_code == 403
    fresh = sign_in(app_client, "cy@example.org")
    assert fresh.client.request("DELETE", "/api/v1/me", headers=fresh.headers).status_code == 204
    assert fresh.client.get("/api/v1/account").status_code == 401
    assert cy.client.get("/api/v1/account").status_code == 401
    again = app_client.post(
        "/api/v1/account/sign-up", json={"email": "cy@example.org", "password": PASSWORD}
    )
    assert again.status_code == 201  # the address is free: nothing of Cy is kept


def test_retention_expires_closed_posts_points_and_media_originals(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    media_id = upload(ada, photo((30, 30, 200)))
    kept = published_post(ada, moderator, [media_id])
    rejected = ada.post(
        "/api/v1/posts",
        json={
            "category": "crime.vandalism",
            "title": "Graffiti",
            "description": "Tagging on the bus shelter.",
            "occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "lat": HOME[0],
            "lon": HOME[1],
        },
    ).json()
    moderator.post(
        f"/api/v1/moderation/posts/{rejected['id']}/reject", json={"reason": "duplicate"}
    )
    with factory() as session:
        original_key = session.get_one(Media, media_id).original_key
    assert original_key is not None
    store = store_of(resident_settings)
    now = utcnow()

    early = run_retention(factory, now=now + timedelta(days=29), store=store)
    assert (early.deleted["post_points"], early.deleted["media_originals"]) == (0, 0)
    late = run_retention(factory, now=now + timedelta(days=31), store=store)
    assert (late.deleted["post_points"], late.deleted["media_originals"]) == (1, 1)

    def point(post_id: int) -> tuple[float | None, float | None]:
        own = ada.client.get(f"/api/v1/posts/{post_id}").json()
        return own["lat"], own["lon"]

    assert point(rejected["id"]) == (None, None)
    assert point(kept["id"]) == HOME  # published and not closed: kept
    assert not blob(resident_settings, original_key).exists()
    assert ada.client.get(f"/api/v1/media/{media_id}/original").status_code == 404
    assert ada.client.get(f"/api/v1/media/{media_id}").status_code == 200
    [listed] = read(export(ada), "media.json")
    assert listed["files"]["original"] is None
    assert run_retention(factory, now=now + timedelta(days=32), store=store).total == 0


def test_retention_deletes_uploads_no_post_took_after_a_day(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    box, _ = mailbox
    ada = resident(app_client, box, "ada@example.org")
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", utcnow())
    posted = upload(ada, photo((200, 30, 30)))
    published_post(ada, moderator, [posted])
    left = upload(ada, photo((30, 200, 30)))  # a post that was never sent
    with factory() as session:
        keys = {
            k
            for k in (
                session.get_one(Media, left).original_key,
                session.get_one(Media, left).public_key,
            )
            if k
        }
    assert keys
    assert all(blob(resident_settings, key).exists() for key in keys)
    store, now = store_of(resident_settings), utcnow()

    early = run_retention(factory, now=now + timedelta(hours=23), store=store)
    assert early.deleted["unattached_media"] == 0
    assert ada.client.get(f"/api/v1/media/{left}/original").status_code == 200
    late = run_retention(factory, now=now + timedelta(hours=25), store=store)
    assert late.deleted["unattached_media"] == 1
    assert ada.client.get(f"/api/v1/media/{left}/info").status_code == 404
    assert not any(blob(resident_settings, key).exists() for key in keys)
    assert ada.client.get(f"/api/v1/media/{posted}").status_code == 200  # its post keeps it
