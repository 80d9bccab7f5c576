"""Account pages over the whole app: a forgotten password by mail, two-factor setup on the
account page, the two-factor sign-in step's pending token, and the nav of every page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import cv2
import numpy as np
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.pages import (
    HOME,
    browser_sign_in,
    csrf_of,
    labelled,
    moderator,
    page,
    texts,
    value,
)
from tests.support.residents import PASSWORD, Mailbox, sign_up
from townsquare.accounts import signin
from townsquare.accounts.models import Account
from townsquare.db import transaction, utcnow
from townsquare.settings import Settings

NEW_PASSWORD = "a whole new password"
CLIENT = "198.51.100.7"


def decode_qr(data_uri: str) -> str:
    """The text of a QR code drawn as segno's SVG (a data: URI), read back with OpenCV."""
    svg = unquote(data_uri.split(",", 1)[1])
    size = float(re.findall(r"""width=["']([\d.]+)""", svg)[0])
    scale = float(re.findall(r"scale\(([\d.]+)\)", svg)[0])
    path = re.findall(r""" d=["']([^"']+)""", svg)[0]
    n = round(size / scale)
    grid = np.full((n, n), 255, np.uint8)
    x = y = 0.0
    # The path draws each row's dark runs: M/m move, h draws a run one module high.
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            grid[int(y), int(x) : int(x + float(a))] = 0
            x += float(a)
    image = cv2.resize(grid, (n * 8, n * 8), interpolation=cv2.INTER_NEAREST)
    # OpenCV's classic detector misses about 1 code in 25 that phones read; the ArUco-based
    # one reads those, so a code counts as readable when either reads it.
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, _, _ = detector.detectAndDecode(image)
        if text:
            return str(text)
    return ""


def nav(body: str) -> list[str]:
    """The links of the top navigation."""
    return texts(body, "//nav[@class='topnav']/a")


def mails_to(box: Mailbox, address: str) -> int:
    """How many messages the SMTP server received for `address`."""
    with box.lock:
        return sum(address in rcpt for _, rcpt, _ in box.messages)


def test_a_forgotten_password_is_reset_from_the_mailed_link(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    sign_up(app_client, box, "ada@example.org")
    before = browser_sign_in(app_client, "ada@example.org")
    sign_in_page = app_client.get("/sign-in")
    assert page(sign_in_page.text).xpath("//a[@href='/forgot-password']")

    visitor = TestClient(app_client.app)
    form = visitor.get("/forgot-password")
    assert form.status_code == 200
    assert form.headers["cache-control"] == "no-store"
    labelled(form.text)
    token = value(form.text, "form_token")
    forged = TestClient(app_client.app).post(
        "/forgot-password", data={"email": "ada@example.org", "form_token": "guess"}
    )
    assert forged.status_code == 403
    assert mails_to(box, "ada@example.org") == 1  # the verification mail only
    unknown = visitor.post(
        "/forgot-password", data={"email": "nobody@example.org", "form_token": token}
    )
    sent = visitor.post("/forgot-password", data={"email": "Ada@Example.org", "form_token": token})
    # The same answer whether or not the address has an account.
    assert unknown.status_code == sent.status_code == 200
    assert "Check your e-mail" in unknown.text
    assert "Check your e-mail" in sent.text
    assert mails_to(box, "nobody@example.org") == 0
    assert mails_to(box, "ada@example.org") == 2

    link = box.link("ada@example.org", "/reset")
    opened = visitor.get(f"/reset?token={link}")
    assert opened.status_code == 200
    assert opened.headers["cache-control"] == "no-store"
    labelled(opened.text)
    assert value(opened.text, "token") == link
    fields = {"token": link, "form_token": value(opened.text, "form_token")}
    other_site = TestClient(app_client.app).post(
        "/reset", data={**fields, "password": NEW_PASSWORD}
    )
    assert other_site.status_code == 403  # no form cookie: refused, the link still unused
    short = visitor.post("/reset", data={**fields, "password": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    assert value(short.text, "token") == link
    done = visitor.post("/reset", data={**fields, "password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert "Password changed" in done.text
    again = visitor.post("/reset", data={**fields, "password": NEW_PASSWORD})
    assert again.status_code == 400
    assert "unknown, used or expired" in again.text
    assert page(again.text).xpath("//a[@href='/forgot-password']")

    # The old session ended; the old password no longer works, the new one does.
    assert before.get("/account", follow_redirects=False).status_code == 303
    old = TestClient(app_client.app)
    start = old.get("/sign-in")
    body = {"email": "ada@example.org", "password": PASSWORD}
    refused = old.post("/sign-in", data={**body, "form_token": value(start.text, "form_token")})
    assert refused.status_code == 401
    body["password"] = NEW_PASSWORD
    signed = old.post(
        "/sign-in",
        data={**body, "form_token": value(start.text, "form_token")},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_two_factor_is_set_up_and_turned_off_on_the_account_page(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    account = ada.get("/account")
    assert page(account.text).xpath("//form[@action='/account/totp']")
    assert ada.post("/account/totp", data={}).status_code == 403  # no CSRF token
    csrf = csrf_of(ada)

    setup = ada.post("/account/totp", data={"csrf_token": csrf})
    assert setup.status_code == 200
    assert setup.headers["cache-control"] == "no-store"
    labelled(setup.text)
    root = page(setup.text)
    uri = str(root.xpath("//img[@class='totp-qr']/@data-otpauth")[0])
    qr = str(root.xpath("//img[@class='totp-qr']/@src")[0])
    assert qr.startswith("data:image/svg+xml")
    assert decode_qr(qr) == uri  # the QR code a phone scans is the otpauth URI
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Townsquare:ada@example.org"
    secret = parse_qs(parts.query)["secret"][0]
    assert texts(setup.text, "//*[@data-totp-secret]") == [
        " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    ]
    totp = pyotp.TOTP(secret)
    now = utcnow()
    # Three codes of consecutive time steps (a step either side of now is accepted): one to
    # confirm, one to sign in, one to turn it off; each code is accepted once.
    confirm, sign_in, turn_off = (totp.at(now, counter_offset=offset) for offset in (-1, 0, 1))

    wrong = ada.post("/account/totp/confirm", data={"csrf_token": csrf, "code": "abcdef"})
    assert wrong.status_code == 422
    assert "not valid now" in wrong.text
    # The setup goes on with the same secret.
    assert page(wrong.text).xpath("//img[@class='totp-qr']/@data-otpauth") == [uri]
    on = ada.post(
        "/account/totp/confirm",
        data={"csrf_token": csrf, "code": confirm},
        follow_redirects=False,
    )
    assert on.status_code == 303
    shown = ada.get(on.headers["location"])
    assert "Two-factor sign-in is on" in shown.text
    assert page(shown.text).xpath("//form[@action='/account/totp/disable']")
    assert ada.get("/api/v1/account").json()["totp_enabled"] is True

    # From now on the pages ask for a code after the password.
    again = browser_sign_in(app_client, "ada@example.org", sign_in)
    again_csrf = csrf_of(again)
    refused = again.post("/account/totp/disable", data={"csrf_token": again_csrf, "code": confirm})
    assert refused.status_code == 422  # a used code
    off = again.post(
        "/account/totp/disable",
        data={"csrf_token": again_csrf, "code": turn_off},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert "Two-factor sign-in is off" in again.get(off.headers["location"]).text
    browser_sign_in(app_client, "ada@example.org")  # the password alone again
    with factory() as session:
        stored = session.scalars(select(Account).where(Account.email == "ada@example.org")).one()
        assert (stored.totp_enabled, stored.totp_secret) == (False, None)


def test_a_moderator_cannot_turn_two_factor_off(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    mod = moderator(app_client, mailbox[0], factory)
    account = mod.get("/account")
    assert page(account.text).xpath("//form[@action='/account/totp/disable']") == []
    assert "need two-factor sign-in, so it stays on" in account.text
    refused = mod.post("/account/totp/disable", data={"csrf_token": csrf_of(mod), "code": "1"})
    assert refused.status_code == 403
    assert mod.get("/api/v1/account").json()["totp_enabled"] is True


def enrolled(client: TestClient, box: Mailbox, email: str) -> pyotp.TOTP:
    """A resident with two-factor sign-in on (over the API); their authenticator."""
    sign_up(client, box, email)
    person = TestClient(client.app)
    csrf = person.post(
        "/api/v1/account/sign-in", json={"email": email, "password": PASSWORD}
    ).json()["csrf_token"]
    secret = person.post("/api/v1/account/totp", headers={"X-CSRF-Token": csrf}).json()["secret"]
    totp = pyotp.TOTP(secret)
    confirm = {"code": totp.at(utcnow())}
    headers = {"X-CSRF-Token": csrf}
    assert person.post("/api/v1/account/totp/confirm", json=confirm, headers=headers).is_success
    return totp


def test_the_code_step_carries_a_single_use_pending_token_not_the_password(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    totp = enrolled(app_client, mailbox[0], "ada@example.org")
    now = utcnow()
    visitor = TestClient(app_client.app)
    start = visitor.get("/sign-in?next=/posts/mine")
    fields = {"form_token": value(start.text, "form_token"), "next": "/posts/mine"}
    step = visitor.post(
        "/sign-in", data={**fields, "email": "ada@example.org", "password": PASSWORD}
    )
    assert step.status_code == 200
    assert step.headers["cache-control"] == "no-store"
    assert PASSWORD not in step.text
    assert page(step.text).xpath("//input[@name='password']") == []
    labelled(step.text)
    pending = value(step.text, "pending")

    forged = TestClient(app_client.app).post(
        "/sign-in/code", data={**fields, "pending": pending, "totp": totp.at(now, counter_offset=1)}
    )
    assert forged.status_code == 403  # the form cookie is still needed
    wrong = visitor.post("/sign-in/code", data={**fields, "pending": pending, "totp": "12"})
    assert wrong.status_code == 401
    assert "not valid now" in wrong.text
    tampered = pending[:-1] + ("0" if pending[-1] != "0" else "1")
    bad = visitor.post("/sign-in/code", data={**fields, "pending": tampered, "totp": totp.now()})
    assert bad.status_code == 401
    assert "Enter your password again" in bad.text
    assert page(bad.text).xpath("//input[@name='password']")

    done = visitor.post(
        "/sign-in/code",
        data={
            **fields,
            "pending": value(wrong.text, "pending"),
            "totp": totp.at(now, counter_offset=1),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/posts/mine"
    assert visitor.get("/account", follow_redirects=False).status_code == 200
    # Used once: the same token with the next valid code opens nothing.
    replay = TestClient(app_client.app)
    replay.cookies.set("ts_form", fields["form_token"])
    reused = replay.post(
        "/sign-in/code",
        data={**fields, "pending": pending, "totp": totp.at(now, counter_offset=2)},
        follow_redirects=False,
    )
    assert reused.status_code == 401
    assert "expired or was already used" in reused.text


def test_a_pending_sign_in_expires_after_five_minutes(
    app_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    totp = enrolled(app_client, mailbox[0], "ada@example.org")
    now = utcnow()
    with factory() as session:
        with pytest.raises(signin.SecondFactorRequired) as asked:
            signin.sign_in(
                session,
                resident_settings,
                "ada@example.org",
                PASSWORD,
                None,
                client=CLIENT,
                now=now,
            )
        pending = asked.value.pending
        later = now + signin.PENDING_LIFETIME + timedelta(seconds=1)
        with pytest.raises(signin.PendingSignInInvalid):
            signin.sign_in_with_code(
                session, resident_settings, pending, totp.at(later), client=CLIENT, now=later
            )
        # Within the five minutes it opens a session, once.
        soon = now + timedelta(minutes=4)
        opened = signin.sign_in_with_code(
            session, resident_settings, pending, totp.at(soon), client=CLIENT, now=soon
        )
        assert opened.actor.account_id
        with pytest.raises(signin.PendingSignInInvalid):
            signin.sign_in_with_code(
                session,
                resident_settings,
                pending,
                totp.at(soon, counter_offset=1),
                client=CLIENT,
                now=soon,
            )


def test_the_nav_of_every_page_knows_who_is_signed_in(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        incident = factories.incident(
            session, lat=HOME[0], lon=HOME[1], occurred_at=utcnow() - timedelta(minutes=5)
        ).id
    paths = ["/", f"/incidents/{incident}", "/alerts", "/incidents/999999"]
    for path in paths:
        response = app_client.get(path)
        assert "Sign in" in nav(response.text), path
        assert "Account" not in nav(response.text), path
        assert "Cookie" in response.headers["vary"]

    sign_up(app_client, mailbox[0], "ada@example.org")
    ada = browser_sign_in(app_client, "ada@example.org")
    mod = moderator(app_client, mailbox[0], factory)
    for path in [*paths, "/account", "/posts/mine", "/posts/new"]:
        links = nav(ada.get(path).text)
        assert {"My posts", "Account"} <= set(links), path
        assert "Sign in" not in links, path
        assert "Moderation" not in links, path
        assert "Moderation" in nav(mod.get(path).text), path
    # A session that has ended is nobody.
    ada.post("/sign-out", data={"csrf_token": csrf_of(ada)})
    assert "Sign in" in nav(ada.get("/").text)
