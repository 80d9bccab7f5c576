"""Resident and moderator pages over the whole app: rendering, the flows, CSRF refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.clips import finish_clips
from tests.support.pages import (
    HOME,
    browser_sign_in,
    csrf_of,
    draft,
    jpeg,
    labelled,
    moderator,
    page,
    texts,
    value,
)
from tests.support.residents import PASSWORD, Mailbox, sign_up
from tests.support.waiting import wait_for
from townsquare.db import transaction, utcnow
from townsquare.posts.models import Post


def test_sign_up_verify_sign_in_and_out_through_the_pages(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    form = app_client.get("/sign-up")
    assert form.status_code == 200
    assert form.headers["cache-control"] == "no-store"
    labelled(form.text)
    token = value(form.text, "form_token")
    fields = {"email": "ada@example.org", "password": PASSWORD, "form_token": token}
    sent = app_client.post("/sign-up", data=fields)
    assert sent.status_code == 200
    assert "Check your e-mail" in sent.text
    link = mailbox[0].link("ada@example.org", "/verify")
    confirm = app_client.get(f"/verify?token={link}")
    assert "Confirm my address" in confirm.text
    done = app_client.post("/verify", data={"token": link})
    assert "Address confirmed" in done.text
    again = app_client.post("/verify", data={"token": link})
    assert again.status_code == 400
    assert "unknown, used or expired" in again.text

    wrong = TestClient(app_client.app)
    start = wrong.get("/sign-in")
    bad = {"email": "ada@example.org", "password": "not it at all", "form_token": ""}
    bad["form_token"] = value(start.text, "form_token")
    refused = wrong.post("/sign-in", data=bad)
    assert refused.status_code == 401
    assert "Wrong e-mail or password" in refused.text

    ada = browser_sign_in(app_client, "ada@example.org")
    account = ada.get("/account")
    assert "ada@example.org" in account.text
    assert "Confirmed" in account.text
    assert ada.post("/sign-out", data={}).status_code == 403  # no CSRF token: refused
    assert ada.get("/account", follow_redirects=False).status_code == 200  # still signed in
    out = ada.post("/sign-out", data={"csrf_token": csrf_of(ada)}, follow_redirects=False)
    assert out.status_code == 303
    assert ada.get("/account", follow_redirects=False).headers["location"].startswith("/sign-in")


def test_forms_before_a_session_need_the_form_cookie(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    forged = TestClient(app_client.app)  # another site's form: no cookie of ours
    body = {"email": "ada@example.org", "password": PASSWORD, "form_token": "guess"}
    assert forged.post("/sign-in", data=body, follow_redirects=False).status_code == 403
    body = {"email": "eve@example.org", "password": PASSWORD, "form_token": "guess"}
    assert forged.post("/sign-up", data=body).status_code == 403
    assert all("eve@example.org" not in rcpt for _, rcpt, _ in mailbox[0].messages)


def test_new_post_form_renders_with_labels_and_needs_a_session(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    anonymous = app_client.get("/posts/new", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/sign-in?next=/posts/new"
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    form = ada.get("/posts/new")
    assert form.status_code == 200
    labelled(form.text)
    root = page(form.text)
    assert root.xpath("//form[@id='post-form'][@enctype='multipart/form-data']")
    assert root.xpath("//div[@data-map='pick']")
    assert root.xpath("//section[@id='guideline-checks'][@hx-post='/posts/check']")
    assert value(form.text, "csrf_token") == csrf_of(ada)
    assert "Report" in texts(form.text, "//nav[@class='topnav']")[0]


def test_the_check_shows_each_guideline_as_the_resident_writes(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)

    def checks(**changes: Any) -> dict[str, str]:
        response = ada.post("/posts/check", data=draft(csrf, **changes))
        assert response.status_code == 200
        found = page(f"<div>{response.text}</div>").xpath("//*[@data-check]")
        assert isinstance(found, list)
        return {str(n.get("data-check")): " ".join(n.text_content().split()) for n in found}

    assert list(checks()) == ["ok"]
    person = {"about_person": "1", "action": "tried car door handles"}
    race = checks(**person, descriptor=["Black male"])
    assert "race or ethnicity alone cannot be posted" in race["race_only"]
    one = checks(**person, descriptor=["red hoodie"])
    assert "at least two descriptors" in one["descriptors"]
    idle = checks(about_person="1", descriptor=["red hoodie", "tall"])
    assert "Say what the person did" in idle["action"]
    asked = checks(**person, descriptor=["red hoodie", "tall"], suspicious="1")
    assert "delivery, a solicitor, a utility worker or a neighbour" in asked["could_be"]
    fyi = checks(**person, descriptor=["red hoodie", "tall"], suspicious="1", could_be="delivery")
    assert "FYI" in fyi["fyi"]
    assert "ok" in fyi
    old = (utcnow() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    assert "without an alert" in checks(occurred_at=old)["old"]
    assert "Say when it happened" in checks(occurred_at="")["time"]
    assert "Pick the place" in checks(lat="")["place"]
    # A browser two hours behind UTC: 10 minutes ago in its local time is not "old".
    local = (utcnow() - timedelta(hours=2, minutes=10)).strftime("%Y-%m-%dT%H:%M")
    assert list(checks(occurred_at=local, tz_offset="120")) == ["ok"]
    refused = ada.post("/posts/check", data=draft(""))
    assert refused.status_code == 403


def test_posting_with_a_photo_and_my_posts(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)
    photo = {"photo": ("car.jpg", jpeg(), "image/jpeg")}
    forged = ada.post("/posts/new", data=draft(""), files=photo)
    assert forged.status_code == 403
    race = draft(csrf, about_person="1", action="tried car door handles", descriptor=["Black"])
    refused = ada.post("/posts/new", data=race, files=photo)
    assert refused.status_code == 422
    assert "race or ethnicity alone" in refused.text
    assert value(refused.text, "title") == "Car window smashed"  # the draft is kept
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 0
    sent = ada.post("/posts/new", data=draft(csrf), files=photo, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    mine = ada.get(sent.headers["location"])
    assert "Your report was sent" in mine.text
    assert texts(mine.text, "//li[@data-post]//*[contains(@class, 'state')]") == ["Pending"]
    summary = texts(mine.text, "//*[@data-media-summary]")
    assert summary in (["1 photo being blurred"], ["1 photo"])  # the media job may be done
    finish_clips(app_client)
    mine = ada.get(sent.headers["location"])
    assert texts(mine.text, "//*[@data-media-summary]") == ["1 photo"]
    with factory() as session:
        post = session.scalars(select(Post)).one()
        assert (post.lat, post.lon) == HOME
    assert str(HOME[0]) not in mine.text  # the exact point is not echoed on the page


def test_the_author_edits_closes_and_deletes_from_my_posts(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)
    for title in ("Car window smashed", "Fence tagged"):
        assert ada.post("/posts/new", data=draft(csrf, title=title)).status_code == 200
    first, second = (p.id for p in stored_posts(factory))

    edited = ada.post(f"/posts/{first}/edit", data={"csrf_token": csrf, "title": "Two windows"})
    assert "Your changes were saved" in edited.text
    assert "Two windows" in edited.text
    closed = ada.post(f"/posts/{first}/close", data={"csrf_token": csrf})
    assert "The post is closed" in closed.text
    assert "Closed" in texts(closed.text, "//li[@data-post]//*[contains(@class, 'state')]")

    unticked = ada.post(f"/posts/{second}/delete", data={"csrf_token": csrf})
    assert unticked.status_code == 409
    assert "tick the box" in unticked.text.lower()
    assert len(stored_posts(factory)) == 2
    deleted = ada.post(f"/posts/{second}/delete", data={"csrf_token": csrf, "confirm": "yes"})
    assert "The post is deleted" in deleted.text
    assert [p.id for p in stored_posts(factory)] == [first]


def test_moderator_approves_rejects_and_resident_appeals_once(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    csrf = csrf_of(ada)
    assert ada.get("/moderation").status_code == 403  # a resident is not a moderator
    person = {"about_person": "1", "action": "tried car door handles"}
    flagged = draft(csrf, **person, descriptor=["Black man", "red hoodie", "tall"])
    assert ada.post("/posts/new", data=flagged, follow_redirects=False).status_code == 303
    assert ada.post("/posts/new", data=draft(csrf, title="Fence tagged")).status_code == 200
    first, second = (p.id for p in stored_posts(factory))

    mod = moderator(app_client, mailbox[0], factory)
    queue = mod.get("/moderation")
    assert queue.status_code == 200
    assert "The description mentions race." in texts(queue.text, f"//li[@id='post-{first}']")[0]
    mod_csrf = value(queue.text, "csrf_token")
    no_csrf = mod.post(f"/moderation/posts/{first}/approve", data={})
    assert no_csrf.status_code == 403
    approved = mod.post(
        f"/moderation/posts/{first}/approve", data={"csrf_token": mod_csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    no_reason = mod.post(f"/moderation/posts/{second}/reject", data={"csrf_token": mod_csrf})
    assert no_reason.status_code == 409
    assert "needs a reason" in no_reason.text
    mod.post(
        f"/moderation/posts/{second}/reject",
        data={"csrf_token": mod_csrf, "reason": "Tagging is better reported to the city."},
    )

    mine = ada.get("/posts/mine").text
    assert (
        "Rejected: Tagging is better reported to the city."
        in texts(mine, f"//li[@id='post-{second}']")[0]
    )
    incident_link = page(mine).xpath(f"//li[@id='post-{first}']//a/@href")
    assert incident_link == [f"/incidents/{stored_posts(factory)[0].incident_id}"]
    incident = app_client.get(str(incident_link[0]))
    assert texts(incident.text, "//*[@data-provenance]") == ["resident, unverified"]
    item = feed_item(app_client, stored_posts(factory)[0].incident_id)
    assert "resident, unverified" in item[0]

    appeal = ada.post(f"/posts/{second}/appeal", data={"csrf_token": csrf, "reason": "It is art"})
    assert appeal.status_code == 200
    appeal_form = "form[contains(@action, '/appeal')]"
    again = page(appeal.text).xpath(f"//li[@id='post-{second}']//{appeal_form}")
    assert again == []  # pending again, and no second appeal offered
    assert "Waiting for a moderator (appealed)" in appeal.text
    mod.post(
        f"/moderation/posts/{second}/reject", data={"csrf_token": mod_csrf, "reason": "Still no."}
    )
    final = ada.get("/posts/mine").text
    assert "Appealed once already" in final
    assert page(final).xpath(f"//li[@id='post-{second}']//{appeal_form}") == []


def feed_item(client: TestClient, incident_id: int | None) -> list[str]:
    """The feed page's item for the incident, once the relay has announced it (or fail)."""

    def item() -> list[str]:
        feed = client.get("/", params={"lat": HOME[0], "lon": HOME[1], "radius_m": 10000})
        return texts(feed.text, f"//li[@data-incident='{incident_id}']")

    # The feed index follows the bus, a relay interval after the commit.
    return wait_for(item, timeout=15, what=f"incident {incident_id} to reach the feed page")


def stored_posts(factory: sessionmaker[Session]) -> list[Post]:
    """Every post, oldest first."""
    with factory() as session:
        return list(session.scalars(select(Post).order_by(Post.id)))


def test_a_corroborated_post_links_its_dispatch_call(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        call = factories.incident(
            session,
            lat=HOME[0] + 0.0005,
            lon=HOME[1],
            occurred_at=utcnow() - timedelta(minutes=15),
            category="crime.vandalism",
            external_id="call-1",
        ).id
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    ada.post("/posts/new", data=draft(csrf_of(ada)), follow_redirects=False)
    mod = moderator(app_client, mailbox[0], factory)
    post = stored_posts(factory)[0]
    mod.post(f"/moderation/posts/{post.id}/approve", data={"csrf_token": csrf_of(mod)})
    incident_id = stored_posts(factory)[0].incident_id
    shown = app_client.get(f"/incidents/{incident_id}")
    assert texts(shown.text, "//*[@data-provenance='corroborated']") == [
        "resident, corroborated by dispatch"
    ]
    assert page(shown.text).xpath("//a[@class='corroboration']/@href") == [f"/incidents/{call}"]
    geojson = app_client.get(f"/api/v1/incidents/{incident_id}").json()["properties"]
    assert geojson["corroborated_by"] == call
    dispatch = app_client.get(f"/incidents/{call}")
    assert texts(dispatch.text, "//*[@data-provenance]") == ["dispatch-confirmed"]
