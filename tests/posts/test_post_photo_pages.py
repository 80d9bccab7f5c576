"""The photo on the post pages: a draft the guidelines refuse keeps its photo (shown, removable,
sent with the corrected draft) and the author sees each photo of a post in "my posts"."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import finish_clips
from tests.support.pages import browser_sign_in, csrf_of, draft, jpeg, page, value
from tests.support.residents import Mailbox, sign_up
from townsquare.media.models import Media
from townsquare.posts.models import PostMedia

RACE_ONLY = {"about_person": "1", "action": "tried car door handles", "descriptor": ["Black"]}


def media_count(factory: sessionmaker[Session]) -> int:
    """How many uploads the store holds."""
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Media)) or 0)


def test_a_refused_draft_keeps_its_photo_for_the_corrected_draft(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)
    photo = {"photo": ("car.jpg", jpeg(), "image/jpeg")}
    refused = ada.post("/posts/new", data=draft(csrf, **RACE_ONLY), files=photo)
    assert refused.status_code == 422
    assert "race or ethnicity alone" in refused.text
    kept = value(refused.text, "kept_media")
    shown = page(refused.text).xpath("//*[@data-kept-photo]//img")
    assert [(img.get("alt"), img.get("width")) for img in shown] == [
        ("The photo you chose, kept with this draft", "96")
    ]
    assert ada.get(shown[0].get("src")).headers["content-type"] == "image/jpeg"
    assert page(refused.text).xpath("//label[@for='remove_photo']/text()") == [
        "Remove this photo from the report"
    ]

    # Refused again with the kept photo: still kept, not uploaded twice.
    again = ada.post("/posts/new", data=draft(csrf, kept_media=kept, **RACE_ONLY))
    assert again.status_code == 422
    assert value(again.text, "kept_media") == kept
    assert media_count(factory) == 1

    # Corrected, without choosing the photo again: the post carries it.
    sent = ada.post("/posts/new", data=draft(csrf, kept_media=kept), follow_redirects=False)
    assert sent.status_code == 303, sent.text
    with factory() as session:
        assert session.scalars(select(PostMedia.media_id)).all() == [int(kept)]


def test_the_kept_photo_can_be_removed_or_replaced(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)
    photo = {"photo": ("car.jpg", jpeg(), "image/jpeg")}
    refused = ada.post("/posts/new", data=draft(csrf, **RACE_ONLY), files=photo)
    kept = value(refused.text, "kept_media")
    removed = ada.post(
        "/posts/new", data=draft(csrf, kept_media=kept, remove_photo="1", **RACE_ONLY)
    )
    assert removed.status_code == 422
    assert page(removed.text).xpath("//input[@name='kept_media']") == []
    assert value(removed.text, "title") == "Car window smashed"  # the rest stays as written
    assert media_count(factory) == 0

    # Another file chosen in place of the kept one replaces it.
    refused = ada.post("/posts/new", data=draft(csrf, **RACE_ONLY), files=photo)
    first = value(refused.text, "kept_media")
    replaced = ada.post(
        "/posts/new", data=draft(csrf, kept_media=first), files=photo, follow_redirects=False
    )
    assert replaced.status_code == 303, replaced.text
    with factory() as session:
        (attached,) = session.scalars(select(PostMedia.media_id)).all()
    assert attached != int(first)
    assert media_count(factory) == 1

    # Someone else's upload id in the form is ignored, not attached.
    sign_up(app_client, mailbox[0], "bo@example.org")
    bo = browser_sign_in(app_client, "bo@example.org")
    stolen = bo.post("/posts/new", data=draft(csrf_of(bo), kept_media=str(attached), **RACE_ONLY))
    assert stolen.status_code == 422
    assert page(stolen.text).xpath("//input[@name='kept_media']") == []


def test_my_posts_shows_a_thumbnail_of_each_photo(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    photo = {"photo": ("car.jpg", jpeg(), "image/jpeg")}
    sent = ada.post("/posts/new", data=draft(csrf_of(ada)), files=photo, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    finish_clips(app_client)
    mine = page(ada.get("/posts/mine").text)
    (thumb,) = mine.xpath("//li[@data-post]//img[@data-thumb]")
    assert thumb.get("alt") == "Your photo 1, with faces and plates blurred as the public sees it"
    assert (thumb.get("width"), thumb.get("height")) == ("96", "96")
    seen = ada.get(thumb.get("src"))
    assert seen.status_code == 200
    assert seen.headers["content-type"] == "image/jpeg"
