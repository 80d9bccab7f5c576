"""A post's photo over the whole app: moderators review its blurred derivative (audited), never
the original, and a clip's only once the media job has blurred it; the photo of a post that is
refused is deleted, not left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import finish_clips, pattern_clip
from tests.support.pages import browser_sign_in, csrf_of, draft, jpeg, moderator, page, texts
from tests.support.residents import (
    PASSWORD,
    Mailbox,
    app_with,
    sign_up,
)
from townsquare.audit import AuditEntry
from townsquare.media.jobs import process_pending
from townsquare.media.models import Media
from townsquare.platform import Platform
from townsquare.posts.models import Post, PostMedia
from townsquare.settings import Settings


def photo() -> dict[str, tuple[str, bytes, str]]:
    """The file field of the new-post form: a real photo with a face."""
    return {"photo": ("car.jpg", jpeg(), "image/jpeg")}


def blobs(settings: Settings) -> set[str]:
    """The keys of every blob in the store (not the scratch space of uploads)."""
    root = Path(settings.data_dir) / "media"
    return {p.name for p in root.rglob("*") if p.is_file() and "incoming" not in p.parts}


def media_rows(factory: sessionmaker[Session]) -> int:
    """How many media rows the store holds."""
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Media)) or 0)


def account_id(client: TestClient) -> int:
    """The id of the signed-in account."""
    return int(client.get("/api/v1/account").json()["id"])


def upload(client: TestClient) -> int:
    """A photo uploaded over the API (attached to no post); its id."""
    sent = client.post(
        "/api/v1/media",
        files={"file": ("car.jpg", jpeg(), "image/jpeg")},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


def test_moderators_see_the_blurred_derivative_of_a_reviewed_posts_photo(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    sent = ada.post("/posts/new", data=draft(csrf_of(ada)), files=photo(), follow_redirects=False)
    assert sent.status_code == 303, sent.text
    with factory() as session:
        post_id, media_id = session.execute(select(PostMedia.post_id, PostMedia.media_id)).one()
    finish_clips(app_client)  # the photo is blurred by the media job
    public = ada.get(f"/api/v1/media/{media_id}")
    original = ada.get(f"/api/v1/media/{media_id}/original")
    assert public.status_code == original.status_code == 200
    assert public.content != original.content
    loose = upload(ada)  # on no post: nobody reviews it

    mod = moderator(app_client, mailbox[0], factory)
    queue = mod.get("/moderation")
    review = f"/api/v1/media/{media_id}/review"
    shown = page(queue.text).xpath(f"//li[@id='post-{post_id}']//img/@src")
    assert shown == [review]
    seen = mod.get(review)
    assert seen.status_code == 200
    assert seen.headers["content-type"] == "image/jpeg"
    assert "no-store" in seen.headers["cache-control"]
    assert seen.content == public.content  # the blurred, stripped derivative
    assert mod.get(f"/api/v1/media/{media_id}/original").status_code == 404
    assert mod.get(f"/api/v1/media/{loose}/review").status_code == 404

    sign_up(app_client, mailbox[0], "bo@example.org")
    bo = browser_sign_in(app_client, "bo@example.org")
    for path in (review, f"/api/v1/media/{media_id}", f"/api/v1/media/{media_id}/original"):
        assert bo.get(path).status_code == 404, path
    assert app_client.get(review).status_code == 401  # nobody signed in

    with factory() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "media.review"))
        found = [(e.actor_id, e.subject_id, e.object_id, e.detail) for e in reads]
    assert found == [(account_id(mod), account_id(ada), str(media_id), {"post": post_id})]

    # Once rejected, the post's media are no longer shown to moderators.
    mod.post(
        f"/moderation/posts/{post_id}/reject",
        data={"csrf_token": csrf_of(mod), "reason": "Not a safety matter."},
    )
    assert mod.get(review).status_code == 404


@pytest.fixture
def one_post_an_hour(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The app with a limit of one post an hour per resident."""
    with app_with(resident_settings, engine, factory, posts_per_hour=1) as client:
        yield client


def test_the_photo_of_a_refused_post_is_deleted(
    one_post_an_hour: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    client = one_post_an_hour
    # Not yet confirmed: the post is refused, and its photo goes with it.
    body = {"email": "cy@example.org", "password": PASSWORD}
    assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
    cy = browser_sign_in(client, "cy@example.org")
    unverified = cy.post("/posts/new", data=draft(csrf_of(cy)), files=photo())
    assert unverified.status_code == 403
    assert "Confirm your e-mail address" in unverified.text
    assert media_rows(factory) == 0
    assert blobs(resident_settings) == set()

    # Over the hourly limit: the same.
    sign_up(client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(client, "ada@example.org")
    first = ada.post("/posts/new", data=draft(ada_csrf := csrf_of(ada)), follow_redirects=False)
    assert first.status_code == 303
    limited = ada.post("/posts/new", data=draft(ada_csrf, title="Again"), files=photo())
    assert limited.status_code == 429
    assert media_rows(factory) == 0
    assert blobs(resident_settings) == set()

    # Bytes another row names stay: only the refused post's own row goes.
    kept = upload(ada)
    before = blobs(resident_settings)
    assert before
    again = ada.post("/posts/new", data=draft(ada_csrf, title="Once more"), files=photo())
    assert again.status_code == 429
    with factory() as session:
        assert session.scalars(select(Media.id)).all() == [kept]
        discarded = session.scalar(select(func.count()).where(AuditEntry.action == "media.discard"))
        assert session.scalar(select(func.count()).select_from(Post)) == 1
    assert discarded == 3
    assert blobs(resident_settings) == before
    assert ada.get(f"/api/v1/media/{kept}/original").status_code == 200


def test_moderators_review_a_posts_clip_once_it_is_blurred(
    jobless_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    sign_up(jobless_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(jobless_client, "ada@example.org")
    clip = pattern_clip(tmp_path, "porch.mp4", 1.0).read_bytes()
    files = {"photo": ("porch.mp4", clip, "video/mp4")}
    sent = ada.post("/posts/new", data=draft(csrf_of(ada)), files=files, follow_redirects=False)
    assert sent.status_code == 303, sent.text  # answered before the clip is blurred
    with factory() as session:
        post_id, media_id = session.execute(select(PostMedia.post_id, PostMedia.media_id)).one()

    mod = moderator(jobless_client, mailbox[0], factory)
    item = f"//li[@id='post-{post_id}']"
    queue = page(mod.get("/moderation").text)
    assert queue.xpath(f"{item}//*[@data-media-state]/@data-media-state") == ["processing"]
    assert queue.xpath(f"{item}//video") == []
    assert texts(mod.get("/moderation").text, f"{item}//*[@data-media-summary]") == [
        "1 clip being blurred"
    ]
    mine = ada.get("/posts/mine").text
    assert texts(mine, "//*[@data-media-summary]") == ["1 clip being blurred"]
    review = f"/api/v1/media/{media_id}/review"
    assert mod.get(review).status_code == 409
    with factory() as session:  # nothing was shown, so no read is recorded
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "media.review")) is None

    platform: Platform = jobless_client.app.state.platform  # type: ignore[attr-defined]
    assert process_pending(platform.factory, platform.settings) == 1
    queue = page(mod.get("/moderation").text)
    assert queue.xpath(f"{item}//video/@src") == [review]
    assert texts(ada.get("/posts/mine").text, "//*[@data-media-summary]") == ["1 clip"]
    seen = mod.get(review)
    assert seen.status_code == 200
    assert seen.headers["content-type"] == "video/mp4"
    with factory() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "media.review"))
        assert [e.object_id for e in reads] == [str(media_id)]
