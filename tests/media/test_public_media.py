"""An approved post's photo and clip are public: their blurred, stripped copies, named by the
hash of their bytes, in the post's and the incident's JSON and the Atom feed. Before approval,
after removal or rejection, and for originals, the public route answers 404."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from fastapi.testclient import TestClient
from lxml import etree
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import finish_clips, pattern_clip
from tests.support.posts import HOME, submit
from tests.support.public_media import PUBLIC_URL, face_photo, face_sharpness, has_gps
from tests.support.residents import Mailbox, Person, privileged, resident
from tests.support.schemas import atom_schema
from tests.support.waiting import wait_for
from townsquare.db import utcnow

ATOM = "{http://www.w3.org/2005/Atom}"


def upload(person: Person, name: str, content: bytes, kind: str) -> int:
    """An upload of `person`'s; its id."""
    sent = person.post("/api/v1/media", files={"file": (name, content, kind)})
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


def public_path(derivative: bytes, extension: str = "jpg") -> str:
    """Where a derivative is served once public: the SHA-256 of its bytes."""
    return f"/api/v1/media/public/{hashlib.sha256(derivative).hexdigest()}.{extension}"


def test_an_approved_posts_photo_is_public_until_the_post_is_removed(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    mod = privileged(app_client, mailbox[0], factory, "mo@example.org", "moderator", utcnow())
    original = face_photo(tmp_path / "street.jpg").read_bytes()
    media_id = upload(ada, "street.jpg", original, "image/jpeg")
    post = submit(ada, media_ids=[media_id]).json()
    finish_clips(app_client)
    derivative = ada.client.get(f"/api/v1/media/{media_id}").content
    url = public_path(derivative)
    anyone = TestClient(app_client.app)
    assert anyone.get(url).status_code == 404  # pending: not yet public
    assert anyone.get(f"/api/v1/posts/{post['id']}/public").status_code == 404

    approved = mod.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    shown = anyone.get(f"/api/v1/posts/{post['id']}/public").json()
    assert shown["media"] == [
        {
            "kind": "photo",
            "url": url,
            "content_type": "image/jpeg",
            "width": 512,
            "height": 512,
            "duration_s": None,
        }
    ]
    assert PUBLIC_URL.match(url)
    incident_id = approved.json()["incident_id"]
    feature = anyone.get(f"/api/v1/incidents/{incident_id}").json()
    assert feature["properties"]["media"] == shown["media"]

    served = anyone.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == derivative
    assert not has_gps(served.content)
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (512, 512)
        assert not image.getexif()
    assert face_sharpness(served.content) < 0.5 * face_sharpness(original)
    # Nothing about the author rides along: not the account, the e-mail or the media id.
    for leak in (ada.email, f"/{media_id}", "original"):
        assert leak not in url
    assert ada.email not in served.headers.values()
    # The original is never public, under its own hash or its owner's route.
    assert anyone.get(public_path(original)).status_code == 404
    assert anyone.get(f"/api/v1/media/{media_id}/original").status_code == 401
    assert anyone.get(f"/api/v1/media/{media_id}").status_code == 401

    def enclosures() -> list[tuple[str | None, str | None]]:
        params = {"lat": HOME[0], "lon": HOME[1], "radius_m": 5000}
        atom = etree.fromstring(anyone.get("/feeds/atom", params=params).content)
        atom_schema().assertValid(atom)
        return [
            (link.get("type"), link.get("href"))
            for link in atom.findall(f"{ATOM}entry/{ATOM}link[@rel='enclosure']")
        ]

    wait_for(enclosures, timeout=10, what="the incident to reach the feed index")
    ((kind, href),) = enclosures()
    assert kind == "image/jpeg"
    assert href is not None
    assert href.endswith(url)

    removed = mod.post(
        f"/api/v1/moderation/posts/{post['id']}/remove", json={"reason": "Shows a bystander."}
    )
    assert removed.status_code == 200, removed.text
    assert anyone.get(url).status_code == 404
    assert anyone.get(f"/api/v1/posts/{post['id']}/public").status_code == 404
    assert ada.client.get(f"/api/v1/media/{media_id}").status_code == 200  # still the author's


def test_a_rejected_edited_or_deleted_posts_photo_is_not_public(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    mod = privileged(app_client, mailbox[0], factory, "mo@example.org", "moderator", utcnow())
    photo = face_photo(tmp_path / "street.jpg").read_bytes()
    refused = submit(ada, media_ids=[upload(ada, "a.jpg", photo, "image/jpeg")]).json()
    kept = submit(ada, title="Bins on fire", media_ids=[upload(ada, "b.jpg", photo, "image/jpeg")])
    finish_clips(app_client)
    derivative = ada.client.get(f"/api/v1/media/{refused['media_ids'][0]}").content
    url = public_path(derivative)
    anyone = TestClient(app_client.app)

    base = "/api/v1/moderation/posts"
    reason = {"reason": "Not a safety matter."}
    assert mod.post(f"{base}/{refused['id']}/reject", json=reason).status_code == 200
    assert anyone.get(url).status_code == 404
    # The same bytes on an approved post are public; the edit puts that post back in review.
    assert mod.post(f"{base}/{kept.json()['id']}/approve", json={}).status_code == 200
    assert anyone.get(url).status_code == 200
    edit = ada.client.patch(
        f"/api/v1/posts/{kept.json()['id']}",
        json={"title": "Bins on fire again"},
        headers=ada.headers,
    )
    assert edit.status_code == 200, edit.text
    assert anyone.get(url).status_code == 404
    assert anyone.get(f"/api/v1/posts/{kept.json()['id']}/public").status_code == 404
    # Approved again, then deleted by its author: public, then gone.
    assert mod.post(f"{base}/{kept.json()['id']}/approve", json={}).status_code == 200
    assert anyone.get(url).status_code == 200
    deleted = ada.client.delete(f"/api/v1/posts/{kept.json()['id']}", headers=ada.headers)
    assert deleted.status_code == 204
    assert anyone.get(url).status_code == 404
    # A name that is not a derivative's: 404 too, never an error.
    for name in ("x.jpg", "../../secret.key", url.rsplit("/", 1)[1].replace(".jpg", ".mp4")):
        assert anyone.get(f"/api/v1/media/public/{name}").status_code == 404, name


def test_an_approved_clip_is_public_with_its_size_and_length(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    mod = privileged(app_client, mailbox[0], factory, "mo@example.org", "moderator", utcnow())
    clip = pattern_clip(tmp_path, "porch.mp4", 1.0).read_bytes()
    post = submit(ada, media_ids=[upload(ada, "porch.mp4", clip, "video/mp4")]).json()
    finish_clips(app_client)
    assert mod.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={}).status_code == 200
    anyone = TestClient(app_client.app)
    (shown,) = anyone.get(f"/api/v1/posts/{post['id']}/public").json()["media"]
    assert shown["kind"] == "clip"
    assert shown["content_type"] == "video/mp4"
    assert (shown["width"], shown["height"]) == (64, 64)
    assert 0.9 <= shown["duration_s"] <= 1.1
    assert shown["url"].endswith(".mp4")
    served = anyone.get(shown["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "video/mp4"


def test_a_clip_ready_after_approval_reaches_the_feed(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """The feed keeps incidents encoded: a derivative finished later still shows in it."""
    ada = resident(app_client, mailbox[0], "ada@example.org")
    mod = privileged(app_client, mailbox[0], factory, "mo@example.org", "moderator", utcnow())
    clip = pattern_clip(tmp_path, "porch.mp4", 1.0).read_bytes()
    post = submit(ada, media_ids=[upload(ada, "porch.mp4", clip, "video/mp4")]).json()
    assert mod.post(f"/api/v1/moderation/posts/{post['id']}/approve", json={}).status_code == 200
    anyone = TestClient(app_client.app)
    area = {"lat": HOME[0], "lon": HOME[1], "radius_m": 5_000}

    def media_in_feed() -> list[object]:
        app_client.app.state.platform.relay_once()  # type: ignore[attr-defined]
        features = anyone.get("/api/v1/incidents", params=area).json()["features"]
        return [m for f in features for m in f["properties"]["media"]]

    media_in_feed()  # encoded now, most likely while its clip is still processing
    finish_clips(app_client)
    (shown,) = wait_for(media_in_feed, what="the clip in the feed")
    assert shown["kind"] == "clip"  # type: ignore[index]
