"""The account page's own forms, without JavaScript: resend the confirmation link, change the
password, change the e-mail address by a link to the new one, sign out everywhere, delete the
account; and the sign-in page saying why a visitor was sent to it."""

from __future__ import annotations

import re
from email import message_from_bytes

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.pages import csrf_of, page, texts, value
from tests.support.residents import PASSWORD, Mailbox, sign_up
from townsquare.accounts.models import Account

NEW_PASSWORD = "another long password"


def sign_in_page(app_client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    """A fresh browser signed in through the sign-in form."""
    fresh = TestClient(app_client.app)
    token = value(fresh.get("/sign-in").text, "form_token")
    done = fresh.post(
        "/sign-in",
        data={"form_token": token, "email": email, "password": password, "next": "/account"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return fresh


def sign_in_fails(app_client: TestClient, email: str, password: str) -> bool:
    """True when the sign-in form refuses these credentials."""
    fresh = TestClient(app_client.app)
    token = value(fresh.get("/sign-in").text, "form_token")
    data = {"form_token": token, "email": email, "password": password}
    return fresh.post("/sign-in", data=data, follow_redirects=False).status_code == 401


def signed_in(browser: TestClient) -> bool:
    """True when the browser's session still opens the account page."""
    return browser.get("/account", follow_redirects=False).status_code == 200


def alert_text(body: str) -> list[str]:
    """The texts of the page's error notices."""
    return texts(body, "//*[@role='alert']")


def bodies_to(box: Mailbox, address: str) -> list[str]:
    """The plain-text bodies of the mail `address` received, oldest first."""
    with box.lock:
        raws = [raw for _, rcpt, raw in box.messages if address in rcpt]
    found = []
    for raw in raws:
        payload = message_from_bytes(raw).get_payload(decode=True)
        assert isinstance(payload, bytes)
        found.append(payload.decode())
    return found


# ---- the confirmation link, again ----------------------------------------------------------


def test_resend_answers_alike_for_known_and_unknown_addresses(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    token = value(app_client.get("/sign-up").text, "form_token")
    app_client.post(
        "/sign-up", data={"form_token": token, "email": "ada@example.org", "password": PASSWORD}
    )
    sign_up(app_client, box, "bea@example.org")  # confirmed already
    answers = {}
    for email in ("ada@example.org", "bea@example.org", "nobody@example.org"):
        shown = app_client.post("/verify/resend", data={"form_token": token, "email": email})
        status = texts(shown.text, "//*[@role='status']")
        answers[email] = (shown.status_code, [s.replace(email, "X") for s in status])
    assert answers["ada@example.org"] == answers["bea@example.org"]
    assert answers["ada@example.org"] == answers["nobody@example.org"]
    assert answers["ada@example.org"][0] == 200
    assert len(bodies_to(box, "ada@example.org")) == 2  # sign-up, then the new link
    assert len(bodies_to(box, "bea@example.org")) == 1
    assert bodies_to(box, "nobody@example.org") == []
    assert app_client.post("/verify", data={"token": box.link("ada@example.org", "/verify")})


def test_an_unconfirmed_resident_sends_the_link_again_from_the_account_page(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    body = {"email": "ada@example.org", "password": PASSWORD}
    assert app_client.post("/api/v1/account/sign-up", json=body).status_code == 201
    browser = sign_in_page(app_client, "ada@example.org")
    shown = browser.post("/account/verify/resend", data={"csrf_token": csrf_of(browser)})
    assert "We sent a new link to confirm your address" in shown.text
    assert len(bodies_to(mailbox[0], "ada@example.org")) == 2


# ---- the password ---------------------------------------------------------------------------


def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    here, elsewhere = (sign_in_page(app_client, "ada@example.org") for _ in range(2))
    form = {"csrf_token": csrf_of(here), "current_password": "not it", "new_password": NEW_PASSWORD}
    wrong = here.post("/account/password", data=form)
    assert wrong.status_code == 403
    assert alert_text(wrong.text) == ["Your current password is not right."]
    short = here.post(
        "/account/password", data=form | {"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    assert alert_text(short.text) == ["Choose a new password of at least 10 characters."]
    done = here.post("/account/password", data=form | {"current_password": PASSWORD})
    assert "Your password is changed." in done.text
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert sign_in_fails(app_client, "ada@example.org", PASSWORD)
    assert signed_in(sign_in_page(app_client, "ada@example.org", NEW_PASSWORD))
    assert "account was just changed" in bodies_to(mailbox[0], "ada@example.org")[-1]


# ---- the e-mail address ------------------------------------------------------------------


def test_a_new_address_applies_only_once_its_link_is_opened(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    sign_up(app_client, box, "ada@example.org")
    browser = sign_in_page(app_client, "ada@example.org")
    form = {"csrf_token": csrf_of(browser), "new_email": "ada@new.example", "password": "nope"}
    wrong = browser.post("/account/email", data=form)
    assert alert_text(wrong.text) == ["Your current password is not right."]
    bad = browser.post("/account/email", data=form | {"new_email": "ada at home"})
    assert alert_text(bad.text) == ["Enter the new address like name@example.org."]
    asked = browser.post("/account/email", data=form | {"password": PASSWORD})
    assert "We sent a link to your new address" in asked.text
    with factory() as session:
        assert session.scalar(select(Account.email)) == "ada@example.org"
    (mail,) = bodies_to(box, "ada@new.example")
    found = re.search(r"(/account/email/confirm\?token=[\w.%-]+)", mail)
    assert found, mail
    link = found.group(1)
    opened = app_client.get(link)
    token = value(opened.text, "token")
    with factory() as session:  # opening the link (a mail scanner's GET) changes nothing
        assert session.scalar(select(Account.email)) == "ada@example.org"
    done = app_client.post("/account/email/confirm", data={"token": token})
    assert texts(done.text, "//*[@role='status']") == [
        "Your Townsquare address is now ada@new.example. Sign in with it from now on."
    ]
    assert "no longer signs in" in bodies_to(box, "ada@example.org")[-1]
    assert sign_in_fails(app_client, "ada@example.org", PASSWORD)
    assert signed_in(sign_in_page(app_client, "ada@new.example"))
    again = app_client.post("/account/email/confirm", data={"token": token})
    assert again.status_code == 400
    assert "This link is unknown, used or expired." in alert_text(again.text)[0]


def test_an_address_another_account_has_is_told_not_given(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box = mailbox[0]
    sign_up(app_client, box, "ada@example.org")
    sign_up(app_client, box, "bea@example.org")
    browser = sign_in_page(app_client, "ada@example.org")
    form = {"csrf_token": csrf_of(browser), "new_email": "bea@example.org", "password": PASSWORD}
    asked = browser.post("/account/email", data=form)
    assert "We sent a link to your new address" in asked.text  # the same as for a free one
    assert "already has an account" in bodies_to(box, "bea@example.org")[-1]
    with factory() as session:
        assert sorted(session.scalars(select(Account.email))) == [
            "ada@example.org",
            "bea@example.org",
        ]


# ---- every session, and the account ----------------------------------------------------


def test_sign_out_everywhere_ends_another_browsers_session(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    here, elsewhere = (sign_in_page(app_client, "ada@example.org") for _ in range(2))
    assert signed_in(elsewhere)
    done = here.post(
        "/account/sign-out-everywhere",
        data={"csrf_token": csrf_of(here)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = here.get(done.headers["location"])
    assert "You are signed out on every device." in shown.text
    assert not signed_in(here)
    assert not signed_in(elsewhere)


def test_forms_without_the_sessions_token_are_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    browser = sign_in_page(app_client, "ada@example.org")
    for path in ("/account/sign-out-everywhere", "/account/delete", "/account/password"):
        data = {"password": PASSWORD, "confirm": "yes", "current_password": PASSWORD}
        assert browser.post(path, data=data).status_code == 403
    assert signed_in(browser)


def test_deleting_the_account_from_its_page(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    browser = sign_in_page(app_client, "ada@example.org")
    form = {"csrf_token": csrf_of(browser), "password": PASSWORD}
    unticked = browser.post("/account/delete", data=form)
    assert unticked.status_code == 422
    assert alert_text(unticked.text) == [
        "Tick the box to confirm that you want your account and data deleted."
    ]
    wrong = browser.post("/account/delete", data=form | {"confirm": "yes", "password": "no"})
    assert wrong.status_code == 403
    assert alert_text(wrong.text) == ["Wrong password."]
    done = browser.post("/account/delete", data=form | {"confirm": "yes"})
    assert done.status_code == 200
    assert "Your account is deleted" in done.text
    assert not signed_in(browser)
    assert sign_in_fails(app_client, "ada@example.org", PASSWORD)
    with factory() as session:
        assert session.scalar(select(Account.id)) is None


def test_the_account_page_offers_every_form_and_the_export(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    browser = sign_in_page(app_client, "ada@example.org")
    root = page(browser.get("/account").text)
    actions = set(root.xpath("//form[@method='post']/@action"))
    assert {
        "/account/password",
        "/account/email",
        "/account/sign-out-everywhere",
        "/account/delete",
    } <= actions
    assert root.xpath("//a[@href='/api/v1/me/export']")
    export = browser.get("/api/v1/me/export")
    assert export.headers["content-type"] == "application/zip"


# ---- sign in to report ------------------------------------------------------------------


def test_report_sends_a_signed_out_visitor_to_sign_in_and_back(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    fresh = TestClient(app_client.app)
    sent = fresh.get("/posts/new", follow_redirects=False)
    assert sent.status_code == 303
    shown = fresh.get(sent.headers["location"])
    assert texts(shown.text, "//*[@role='status']") == ["Sign in to report what you saw."]
    fields = {
        "form_token": value(shown.text, "form_token"),
        "next": value(shown.text, "next"),
        "email": "ada@example.org",
        "password": PASSWORD,
    }
    done = fresh.post("/sign-in", data=fields, follow_redirects=False)
    assert done.headers["location"] == "/posts/new"
    assert fresh.get("/posts/new").status_code == 200
    for elsewhere in ("//evil.example/posts/new", "https://evil.example/", "/\\evil.example"):
        again = TestClient(app_client.app)
        token = value(again.get("/sign-in").text, "form_token")
        data = fields | {"form_token": token, "next": elsewhere}
        assert (
            again.post("/sign-in", data=data, follow_redirects=False).headers["location"]
            == "/account"
        )
