"""Accounts over the API: sign-up with a mailed link, sign-in, lockout, CSRF, tokens, TOTP."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.residents import PASSWORD, Mailbox, privileged, resident, sign_in, sign_up
from townsquare import audit
from townsquare.accounts import grants, service, signin, twofactor
from townsquare.db import utcnow
from townsquare.errors import TooManyRequests, Unauthorized
from townsquare.settings import Settings

ME = "/api/v1/account"


def test_sign_up_mails_a_link_that_verifies_the_address(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    sign_up(app_client, box, "Ada@Example.org")
    person = sign_in(app_client, "ada@example.org")
    me = person.client.get(ME).json()
    assert me["email_verified"] is True
    assert me["roles"] == ["resident"]
    # The link works once.
    token = box.link("ada@example.org", "/verify")
    assert app_client.post(f"{ME}/verify", json={"token": token}).status_code == 422


def test_a_second_account_for_one_address_is_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "bo@example.org")
    again = app_client.post(f"{ME}/sign-up", json={"email": "bo@example.org", "password": "x" * 12})
    assert again.status_code == 409


def test_wrong_password_is_refused_and_five_failures_lock_the_account(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "cy@example.org")
    wrong = {"email": "cy@example.org", "password": "not the password"}
    for _ in range(5):
        assert app_client.post(f"{ME}/sign-in", json=wrong).status_code == 401
    right = {"email": "cy@example.org", "password": PASSWORD}
    locked = app_client.post(f"{ME}/sign-in", json=right)
    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"]


def test_the_lock_lifts_after_ten_minutes(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "di@example.org", PASSWORD, "", now=now)
        for _ in range(5):
            with contextlib.suppress(Unauthorized):
                signin.sign_in(session, resident_settings, "di@example.org", "bad", None, now=now)
        with pytest.raises(TooManyRequests):
            signin.sign_in(session, resident_settings, "di@example.org", PASSWORD, None, now=now)
        later = now + timedelta(minutes=10, seconds=1)
        opened = signin.sign_in(
            session, resident_settings, "di@example.org", PASSWORD, None, now=later
        )
    assert opened.actor.account_id > 0


def test_unsafe_requests_need_the_csrf_token(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    person = resident(app_client, mailbox[0], "ed@example.org")
    assert person.client.post(f"{ME}/tokens", json={"name": "script"}).status_code == 403
    wrong = person.client.post(
        f"{ME}/tokens", json={"name": "script"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    assert person.post(f"{ME}/tokens", json={"name": "script"}).status_code == 201


def test_session_cookie_is_http_only_and_same_site(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "fi@example.org")
    response = TestClient(app_client.app).post(
        f"{ME}/sign-in", json={"email": "fi@example.org", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_sign_out_ends_the_session_and_its_tokens(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    person = resident(app_client, mailbox[0], "gu@example.org")
    token = person.post(f"{ME}/tokens", json={"name": "script"}).json()["token"]
    script = TestClient(app_client.app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get(ME, headers=bearer).json()["email"] == "gu@example.org"
    # A token needs no CSRF token (browsers do not send it on their own) but cannot mint more.
    assert script.post(f"{ME}/tokens", json={"name": "x"}, headers=bearer).status_code == 403
    cookie = person.client.cookies.get("ts_session")
    assert person.post(f"{ME}/sign-out").status_code == 204
    assert person.client.get(ME).status_code == 401
    assert script.get(ME, headers=bearer).status_code == 401
    replay = TestClient(app_client.app)
    replay.cookies.set("ts_session", cookie or "")
    assert replay.get(ME).status_code == 401


def test_password_reset_by_mail_ends_old_sessions(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    person = resident(app_client, box, "ha@example.org")
    assert app_client.post(f"{ME}/password-reset", json={"email": "ha@example.org"}).status_code
    # Unknown addresses get the same answer, so accounts cannot be discovered.
    unknown = app_client.post(f"{ME}/password-reset", json={"email": "nobody@example.org"})
    assert unknown.status_code == 202
    token = box.link("ha@example.org", "/reset")
    new = {"token": token, "password": "a whole new password"}
    assert app_client.post(f"{ME}/password", json=new).status_code == 204
    assert person.client.get(ME).status_code == 401
    old = {"email": "ha@example.org", "password": PASSWORD}
    assert app_client.post(f"{ME}/sign-in", json=old).status_code == 401
    fresh = {"email": "ha@example.org", "password": "a whole new password"}
    assert app_client.post(f"{ME}/sign-in", json=fresh).status_code == 200


def test_privileged_roles_apply_only_after_a_second_factor(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    box, _ = mailbox
    now = utcnow()
    moderator = privileged(app_client, box, factory, "mo@example.org", "moderator", now)
    assert moderator.client.get(ME).json()["active_roles"] == ["moderator", "resident"]
    # Without the code, the password alone no longer signs in.
    password_only = {"email": "mo@example.org", "password": PASSWORD}
    refused = TestClient(app_client.app).post(f"{ME}/sign-in", json=password_only)
    assert refused.status_code == 401
    assert "two-factor" in refused.json()["detail"]


def test_a_role_granted_without_two_factor_stays_inactive(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    person = resident(app_client, mailbox[0], "op@example.org")
    with factory() as session:
        grants.grant_role(session, "op@example.org", "operator", actor_id=None)
    me = person.client.get(ME).json()
    assert me["roles"] == ["operator", "resident"]
    assert me["active_roles"] == ["resident"]


def test_a_totp_code_is_accepted_once(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "ti@example.org", PASSWORD, "", now=now)
        opened = signin.sign_in(
            session, resident_settings, "ti@example.org", PASSWORD, None, now=now
        )
        secret, _ = twofactor.setup_totp(session, actor=opened.actor)
        twofactor.confirm_totp(session, pyotp.TOTP(secret).at(now), actor=opened.actor, now=now)
        code = pyotp.TOTP(secret).at(now, counter_offset=1)
        signin.sign_in(session, resident_settings, "ti@example.org", PASSWORD, code, now=now)
        with pytest.raises(Unauthorized):
            signin.sign_in(session, resident_settings, "ti@example.org", PASSWORD, code, now=now)


def test_privileged_sessions_end_after_thirty_idle_minutes(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "id@example.org", PASSWORD, "", now=now)
        grants.grant_role(session, "id@example.org", "moderator", actor_id=None)
        opened = signin.sign_in(
            session, resident_settings, "id@example.org", PASSWORD, None, now=now
        )
        auth = {"cookie": opened.token, "bearer": None}
        later = now + timedelta(minutes=29)
        assert signin.authenticate(session, resident_settings, **auth, now=later).account_id
        much_later = later + timedelta(minutes=31)
        with pytest.raises(Unauthorized):
            signin.authenticate(session, resident_settings, **auth, now=much_later)
        # A resident's session does not idle out.
        service.sign_up(session, resident_settings, "re@example.org", PASSWORD, "", now=now)
        plain = signin.sign_in(
            session, resident_settings, "re@example.org", PASSWORD, None, now=now
        )
        actor = signin.authenticate(
            session, resident_settings, cookie=plain.token, bearer=None, now=much_later
        )
        assert actor.roles == {"resident"}


def test_account_actions_are_in_the_audit_chain(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    person = resident(app_client, mailbox[0], "au@example.org")
    person.post(f"{ME}/sign-out")
    with factory() as session:
        actions = [e.action for e in audit.entries_about(session, person.account_id)]
        assert actions == [
            "account.sign_up",
            "account.verify_email",
            "account.sign_in",
            "account.sign_out",
        ]
        assert audit.verify(session).ok
