"""Residents share clip by clip; only the requesting agency reads them, until revoked or expired."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import Clips, finish_clips
from tests.support.footage import INSIDE, camera_owner, make_agency, officer, request_body
from tests.support.residents import Mailbox, Person, privileged, resident
from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.audit import AuditEntry
from townsquare.db import utcnow
from townsquare.errors import NotFound
from townsquare.footage import access, shares
from townsquare.footage.models import Clip
from townsquare.housekeeping.retention import run_retention
from townsquare.media.models import Media
from townsquare.migrations import runner
from townsquare.settings import Settings

PRIVATE_KEYS = {"account_id", "owner_id", "camera_id", "clip_id", "media_id", "email", "camera_ids"}


def _push(
    client: TestClient, camera: dict[str, Any], path: Path, token: str, offset_min: float = 90
) -> Any:
    """POST a clip's raw bytes as the camera's software does."""
    start = utcnow() - timedelta(minutes=offset_min)
    return client.post(
        f"/api/v1/cameras/{camera['id']}/clips",
        params={"start": start.isoformat(), "end": (start + timedelta(seconds=60)).isoformat()},
        content=path.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"},
    )


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _numbers(value: Any) -> set[float]:
    if isinstance(value, dict):
        return _numbers(list(value.values()))
    if isinstance(value, list):
        return {n for v in value for n in _numbers(v)}
    return {value} if isinstance(value, float) else set()


def _agency_safe(responses: list[Any], owner: Person) -> None:
    """Nothing the agency received names the resident or places the camera."""
    bodies = [r.json() for r in responses]
    text = json.dumps(bodies)
    assert owner.email not in text
    assert f'"{owner.account_id}"' not in text
    assert str(INSIDE[0]) not in text
    assert str(INSIDE[1]) not in text
    assert not _numbers(bodies) & set(INSIDE)
    assert not _keys(bodies) & PRIVATE_KEYS


def _setup(
    client: TestClient, box: Mailbox, factory: sessionmaker[Session], clips: Clips
) -> tuple[Person, dict[str, Any], Person, int, int]:
    """Two agencies, a camera owner with a pushed clip, a request of the first agency."""
    make_agency(factory, "seattle-police")
    make_agency(factory, "king-county")
    owner, camera = camera_owner(client, box, "near@example.org", INSIDE)
    pushed = _push(client, camera, clips.make(), camera["token"])
    assert pushed.status_code == 201, pushed.text
    finish_clips(client)
    cop = officer(client, box, factory, "cop@spd.example", "seattle-police")
    filed = cop.post("/api/v1/footage/requests", json=request_body(utcnow()))
    assert filed.status_code == 201, filed.text
    return owner, camera, cop, filed.json()["id"], pushed.json()["id"]


def test_camera_push_needs_the_cameras_own_token(
    app_client: TestClient, mailbox: tuple[Mailbox, int], clips: Clips
) -> None:
    owner, camera = camera_owner(app_client, mailbox[0], "near@example.org", INSIDE)
    clip = clips.make()
    assert _push(app_client, camera, clip, "tsc_wrong").status_code == 401
    assert _push(app_client, camera, clip, camera["token"] + "x").status_code == 401
    _, other = camera_owner(app_client, mailbox[0], "other@example.org", INSIDE)
    assert _push(app_client, camera, clip, other["token"]).status_code == 401
    no_auth = app_client.post(f"/api/v1/cameras/{camera['id']}/clips", content=b"x")
    assert no_auth.status_code == 401
    # A rotated token replaces the old one at once.
    fresh = owner.post(f"/api/v1/cameras/{camera['id']}/token").json()["token"]
    assert _push(app_client, camera, clip, camera["token"]).status_code == 401
    assert _push(app_client, camera, clip, fresh).status_code == 201
    # The owner uploads by hand too (multipart, signed-in session).
    start = utcnow() - timedelta(hours=1)
    by_hand = owner.post(
        f"/api/v1/cameras/{camera['id']}/clips",
        data={"start": str(start.timestamp()), "end": str(start.timestamp() + 30)},
        files={"file": ("clip.mp4", clip.read_bytes(), "video/mp4")},
    )
    assert by_hand.status_code == 201, by_hand.text
    listed = owner.client.get(f"/api/v1/cameras/{camera['id']}/clips").json()
    assert len(listed) == 2
    # Nobody else sees the camera or its clips.
    stranger = other_person(app_client, mailbox[0])
    assert stranger.client.get(f"/api/v1/cameras/{camera['id']}/clips").status_code == 404
    assert stranger.client.get("/api/v1/cameras").json() == []


def other_person(client: TestClient, box: Mailbox) -> Person:
    """A resident with no camera."""
    return resident(client, box, "stranger@example.org")


def test_only_the_requesting_agency_reads_a_share_until_it_is_revoked(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    box = mailbox[0]
    owner, camera, cop, request_id, clip_id = _setup(app_client, box, factory, clips)
    inbox = owner.client.get("/api/v1/footage/inbox").json()
    assert [c["id"] for c in inbox[0]["clips"]] == [clip_id]
    made = owner.post(
        f"/api/v1/footage/requests/{request_id}/shares",
        json={"clip_ids": [clip_id], "note": "the van at 10:42"},
    )
    assert made.status_code == 201, made.text
    share_id = made.json()[0]["id"]
    # The requesting agency lists and reads it; what it gets has no GPS.
    listed = cop.client.get(f"/api/v1/footage/requests/{request_id}/shares")
    assert [s["share_id"] for s in listed.json()] == [share_id]
    video = cop.client.get(f"/api/v1/footage/shares/{share_id}/video")
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert b"47.610437" not in video.content
    # The owner previews the very same file.
    assert owner.client.get(f"/api/v1/footage/shares/{share_id}/video").content == video.content
    # Another agency's officer, and an operator without break-glass: 404.
    other = officer(app_client, box, factory, "cop@kc.example", "king-county")
    assert other.client.get(f"/api/v1/footage/requests/{request_id}/shares").status_code == 404
    assert other.client.get(f"/api/v1/footage/shares/{share_id}/video").status_code == 404
    op = privileged(app_client, box, factory, "op@townsquare.example", "operator", utcnow())
    assert op.client.get(f"/api/v1/footage/shares/{share_id}/video").status_code == 404
    assert op.client.get(f"/api/v1/footage/break-glass/clips/{clip_id}/video").status_code == 404
    cam = f"/api/v1/footage/break-glass/cameras/{camera['id']}"
    assert op.client.get(cam).status_code == 404
    # Nothing the agency received names or places the resident.
    page = app_client.get("/api/v1/agencies/seattle-police/footage-requests")
    report = app_client.get("/api/v1/agencies/seattle-police/transparency")
    _agency_safe([listed, page, report], owner)
    assert page.json()["requests"][0]["clips_shared"] == 1
    # Revoked: the agency's next read is a 404, the counts say so.
    assert owner.post(f"/api/v1/footage/shares/{share_id}/revoke").status_code == 200
    assert cop.client.get(f"/api/v1/footage/shares/{share_id}/video").status_code == 404
    assert cop.client.get(f"/api/v1/footage/requests/{request_id}/shares").json() == []
    public = app_client.get(f"/api/v1/footage/requests/{request_id}").json()
    assert (public["clips_shared"], public["clips_revoked"]) == (1, 1)
    # The owner's access log names the agency's read, and nobody else's.
    log = owner.client.get("/api/v1/me/access-log").json()
    reads = [e for e in log if e["action"] == "footage.read"]
    assert [e["by"] for e in reads] == ["agency seattle-police"]


def test_break_glass_is_time_limited_and_shown_to_the_owner(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
    resident_settings: Settings,
) -> None:
    box = mailbox[0]
    owner, camera, _, _, clip_id = _setup(app_client, box, factory, clips)
    op = privileged(app_client, box, factory, "op@townsquare.example", "operator", utcnow())
    short = op.post(
        "/api/v1/footage/break-glass", json={"target": "clip", "target_id": clip_id, "reason": ""}
    )
    assert short.status_code == 422
    assert short.json()["parameter"] == "reason"
    reason = "court order 26-CV-1 served on the operator; preserving evidence"
    grant = op.post(
        "/api/v1/footage/break-glass",
        json={"target": "clip", "target_id": clip_id, "reason": reason},
    )
    assert grant.status_code == 201, grant.text
    assert op.client.get(f"/api/v1/footage/break-glass/clips/{clip_id}/video").status_code == 200
    camera_grant = op.post(
        "/api/v1/footage/break-glass",
        json={"target": "camera", "target_id": camera["id"], "reason": reason},
    )
    assert camera_grant.status_code == 201
    point = op.client.get(f"/api/v1/footage/break-glass/cameras/{camera['id']}").json()
    assert (point["lat"], point["lon"]) == INSIDE
    # A resident cannot open one.
    refused = owner.post(
        "/api/v1/footage/break-glass",
        json={"target": "clip", "target_id": clip_id, "reason": reason},
    )
    assert refused.status_code == 403
    log = owner.client.get("/api/v1/me/access-log").json()
    glass = [e for e in log if e["by"] == "operator (break-glass)"]
    assert {e["action"] for e in glass} == {"footage.break_glass", "footage.break_glass_read"}
    assert all(e["detail"]["reason"] == reason for e in glass)
    assert app_client.get("/api/v1/transparency").json()["totals"]["break_glass_accesses"] == 2
    # An hour later the grant is over.
    actor = Actor(op.account_id, frozenset({"operator"}), None, None, True)
    later = utcnow() + timedelta(minutes=resident_settings.footage_break_glass_minutes + 1)
    with factory() as session, pytest.raises(NotFound):
        access.read_clip(session, resident_settings, clip_id, actor=actor, now=later)


def test_a_share_expires_with_its_request_unless_extended(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
    resident_settings: Settings,
) -> None:
    owner, _, cop, request_id, clip_id = _setup(app_client, mailbox[0], factory, clips)
    made = owner.post(f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]})
    share = made.json()[0]
    expires = app_client.get(f"/api/v1/footage/requests/{request_id}").json()["expires_at"]
    assert share["expires_at"] == expires
    agency = Actor(cop.account_id, frozenset({"agency_officer"}), None, None, True)
    settings = resident_settings
    with factory() as session:
        expiry = shares.agency_shares(session, request_id, actor=agency, now=utcnow())[0]
        after = expiry.expires_at + timedelta(seconds=1)
        assert shares.read_shared(session, settings, share["id"], actor=agency, now=utcnow())
        with pytest.raises(NotFound):
            shares.read_shared(session, settings, share["id"], actor=agency, now=after)
        assert shares.agency_shares(session, request_id, actor=agency, now=after) == []
    # Extended by the resident (at most 30 days past the request), it is read again.
    too_far = expiry.expires_at + timedelta(days=31)
    refused = owner.post(
        f"/api/v1/footage/shares/{share['id']}/extend", json={"until": too_far.isoformat()}
    )
    assert refused.status_code == 422
    assert refused.json()["parameter"] == "until"
    until = expiry.expires_at + timedelta(days=10)
    extended = owner.post(
        f"/api/v1/footage/shares/{share['id']}/extend", json={"until": until.isoformat()}
    )
    assert extended.status_code == 200, extended.text
    with factory() as session:
        assert shares.read_shared(session, settings, share["id"], actor=agency, now=after)
    # A clip outside the window, or someone else's, cannot be shared.
    stranger = other_person(app_client, mailbox[0])
    theirs = stranger.post(
        f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]}
    )
    assert theirs.status_code == 404


def test_the_transparency_csv_neutralises_formulas(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@spd.example", "seattle-police")
    evil = request_body(utcnow(), case_number='=HYPERLINK("http://x.example")', reason="+1+2")
    assert cop.post("/api/v1/footage/requests", json=evil).status_code == 201
    for url in (
        "/api/v1/transparency?format=csv",
        "/api/v1/transparency.csv",
        "/api/v1/agencies/seattle-police/transparency?format=csv",
        "/api/v1/agencies/seattle-police/transparency.csv",
    ):
        answer = app_client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.text)))
        assert rows[1][1] == '\'=HYPERLINK("http://x.example")'
        assert rows[1][2].startswith("'+")
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert rows[-1][0] == "total"
    report = app_client.get("/api/v1/transparency").json()
    assert report["totals"]["requests_filed"] == 1
    assert report["requests"][0]["case_number"].startswith("=")  # JSON stays as filed


def test_audit_verify_catches_a_rewritten_agency_read(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    # tests/accounts/test_audit.py covers an edited action; this hides which agency read a clip.
    owner, _, cop, request_id, clip_id = _setup(app_client, mailbox[0], factory, clips)
    made = owner.post(f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]})
    cop.client.get(f"/api/v1/footage/shares/{made.json()[0]['id']}/video")
    with factory() as session:
        assert audit.verify(session).ok
        read = session.scalars(select(AuditEntry).where(AuditEntry.action == "footage.read")).one()
        session.execute(
            update(AuditEntry).where(AuditEntry.id == read.id).values(detail={"agency": "none"})
        )
        session.commit()
        assert audit.verify(session).broken_at == read.id


def test_the_footage_migration_goes_down_and_up(engine: Engine) -> None:
    config = runner.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007_agencies")
    assert "footage_request" not in inspect(engine).get_table_names()
    runner.upgrade(engine)
    assert {"camera", "clip", "footage_request", "footage_share"} <= set(
        inspect(engine).get_table_names()
    )
    assert runner.pending_differences(engine) == []


def test_deleting_an_account_takes_its_cameras_clips_and_shares(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    owner, _, cop, request_id, clip_id = _setup(app_client, mailbox[0], factory, clips)
    made = owner.post(f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]})
    share_id = made.json()[0]["id"]
    gone = owner.client.request("DELETE", "/api/v1/me", headers=owner.headers)
    assert gone.status_code == 204, gone.text
    assert cop.client.get(f"/api/v1/footage/shares/{share_id}/video").status_code == 404
    assert cop.client.get(f"/api/v1/footage/requests/{request_id}/shares").json() == []
    # The public counts keep the fact, not the person.
    public = app_client.get(f"/api/v1/footage/requests/{request_id}").json()
    assert (public["residents_notified"], public["clips_shared"]) == (1, 1)
    with factory() as session:
        assert audit.verify(session).ok


def test_download_my_data_holds_the_cameras_clips_requests_and_shares(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    owner, camera, _, request_id, clip_id = _setup(app_client, mailbox[0], factory, clips)
    note = "the van parks here every night"
    made = owner.post(
        f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id], "note": note}
    )
    assert made.status_code == 201, made.text
    exported = owner.client.get("/api/v1/me/export")
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        footage = json.loads(archive.read("footage.json"))
    assert [(c["id"], c["lat"], c["lon"]) for c in footage["cameras"]] == [(camera["id"], *INSIDE)]
    assert "token_hash" not in footage["cameras"][0]
    assert [c["id"] for c in footage["clips"]] == [clip_id]
    assert [r["request_id"] for r in footage["requests_received"]] == [request_id]
    assert [(s["clip_id"], s["note"], s["revoked_at"]) for s in footage["shares"]] == [
        (clip_id, note, None)
    ]


def test_a_clip_is_shared_once_blurred_and_never_if_it_could_not_be(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    owner, _, cop, request_id, clip_id = _setup(app_client, mailbox[0], factory, clips)
    with factory() as session:
        media_id = session.get_one(Clip, clip_id).media_id

    def set_state(state: str) -> None:  # held by a live claim, so the app's job leaves it
        with factory() as session:
            session.execute(
                update(Media)
                .where(Media.id == media_id)
                .values(state=state, claimed_at=utcnow(), error="the clip cannot be decoded")
            )
            session.commit()

    set_state("failed")
    refused = owner.post(
        f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"clip_ids: clip {clip_id} could not be processed"
    inbox = owner.client.get("/api/v1/footage/inbox").json()
    assert [(c["state"], c["error"]) for c in inbox[0]["clips"]] == [
        ("failed", "the clip cannot be decoded")
    ]

    set_state("processing")  # shared while still being blurred: the agency waits for it
    made = owner.post(f"/api/v1/footage/requests/{request_id}/shares", json={"clip_ids": [clip_id]})
    assert made.status_code == 201, made.text
    video = f"/api/v1/footage/shares/{made.json()[0]['id']}/video"
    waiting = cop.client.get(video)
    assert waiting.status_code == 409
    assert "still being processed" in waiting.json()["detail"]
    with factory() as session:  # nothing was read, so nothing is in the owner's access log
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "footage.read")) is None


def test_retention_keeps_a_cameras_clips_as_taken_uploads(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    clips: Clips,
) -> None:
    owner, camera = camera_owner(app_client, mailbox[0], "near@example.org", INSIDE)
    pushed = _push(app_client, camera, clips.make(), camera["token"])
    assert pushed.status_code == 201, pushed.text
    finish_clips(app_client)
    report = run_retention(factory, now=utcnow() + timedelta(days=2))
    assert report.deleted["unattached_media"] == 0
    media_id = pushed.json()["media_id"]
    assert owner.client.get(f"/api/v1/media/{media_id}/original").status_code == 200
