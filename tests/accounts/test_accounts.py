"""Accounts over the API: sign-up with a mailed link, sign-in, lockout, CSRF, tokens, TOTP."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.residents import PASSWORD, Mailbox, privileged, resident, sign_in, sign_up
from townsquare import audit
from townsquare.accounts import grants, security, service, signin, twofactor
from townsquare.db import utcnow
from townsquare.errors import TooManyRequests, Unauthorized
from townsquare.settings import Settings

ME = "/api/v1/account"
CLIENT = "198.51.100.7"
"""The address service-level sign-ins come from."""


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


def test_five_failures_hold_back_the_address_the_same_way_for_known_and_unknown_accounts(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    sign_up(app_client, mailbox[0], "cy@example.org")
    answers = {}
    for email in ("cy@example.org", "nobody-here@example.org"):
        wrong = {"email": email, "password": "not the password"}
        codes = [app_client.post(f"{ME}/sign-in", json=wrong).status_code for _ in range(6)]
        held = app_client.post(f"{ME}/sign-in", json={"email": email, "password": PASSWORD})
        answers[email] = (codes, held.status_code, held.json()["detail"])
    # Whether an account has the address cannot be told from the answers.
    assert answers["cy@example.org"] == answers["nobody-here@example.org"]
    codes, status, detail = answers["cy@example.org"]
    assert codes == [401] * 5 + [429]
    assert status == 429
    assert "try again in 10 minutes" in detail


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    attacker, owner = "203.0.113.66", CLIENT
    with factory() as session:
        service.sign_up(session, resident_settings, "di@example.org", PASSWORD, "", now=now)
        for _ in range(5):
            with contextlib.suppress(Unauthorized):
                signin.sign_in(
                    session,
                    resident_settings,
                    "di@example.org",
                    "bad",
                    None,
                    client=attacker,
                    now=now,
                )
        with pytest.raises(TooManyRequests):
            signin.sign_in(
                session,
                resident_settings,
                "di@example.org",
                PASSWORD,
                None,
                client=attacker,
                now=now,
            )
        opened = signin.sign_in(
            session, resident_settings, "di@example.org", PASSWORD, None, client=owner, now=now
        )
        assert opened.actor.account_id > 0
        # The attacker's address waits its ten minutes, then may try again.
        later = now + timedelta(minutes=10, seconds=1)
        again = signin.sign_in(
            session,
            resident_settings,
            "di@example.org",
            PASSWORD,
            None,
            client=attacker,
            now=later,
        )
    assert again.actor.account_id == opened.actor.account_id


def test_an_address_failing_across_many_accounts_is_held_back(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    settings = resident_settings.model_copy(update={"signin_address_max_failures": 8})
    with factory() as session:
        service.sign_up(session, settings, "ev@example.org", PASSWORD, "", now=now)
        for k in range(8):  # never five for one e-mail: only the address adds up
            with contextlib.suppress(Unauthorized):
                signin.sign_in(
                    session,
                    settings,
                    f"guess{k}@example.org",
                    "bad",
                    None,
                    client="203.0.113.9",
                    now=now,
                )
        with pytest.raises(TooManyRequests):
            signin.sign_in(
                session,
                settings,
                "ev@example.org",
                PASSWORD,
                None,
                client="203.0.113.9",
                now=now,
            )
        assert signin.sign_in(
            session, settings, "ev@example.org", PASSWORD, None, client=CLIENT, now=now
        ).actor.account_id


def test_password_hashing_waits_for_a_free_slot_and_says_when_the_server_is_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(security, "HASHING_WAIT_S", 0.05)
    held = 0
    while security.HASHING_SLOTS.acquire(blocking=False):
        held += 1
    try:
        assert held >= 1
        with pytest.raises(TooManyRequests, match="busy"):
            security.check_password(None, "anything at all")
    finally:
        for _ in range(held):
            security.HASHING_SLOTS.release()
    assert security.check_password(security.hash_password(PASSWORD), PASSWORD)


def test_an_api_token_expires_after_its_own_lifetime(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "jo@example.org", PASSWORD, "", now=now)
        opened = signin.sign_in(
            session, resident_settings, "jo@example.org", PASSWORD, None, client=CLIENT, now=now
        )
        made = signin.create_api_token(
            session, resident_settings, "script", actor=opened.actor, now=now
        )
        auth = {"cookie": None, "bearer": made.token}
        days = resident_settings.api_token_days
        soon = now + timedelta(days=days - 1)
        assert signin.authenticate(session, resident_settings, **auth, now=soon).via_token
        with pytest.raises(Unauthorized, match="expired"):
            signin.authenticate(
                session, resident_settings, **auth, now=now + timedelta(days=days, seconds=1)
            )


def test_a_privileged_token_dies_after_thirty_idle_minutes(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "ko@example.org", PASSWORD, "", now=now)
        grants.grant_role(session, "ko@example.org", "operator", actor_id=None)
        opened = signin.sign_in(
            session, resident_settings, "ko@example.org", PASSWORD, None, client=CLIENT, now=now
        )
        secret, _ = twofactor.setup_totp(session, actor=opened.actor)
        twofactor.confirm_totp(session, pyotp.TOTP(secret).at(now), actor=opened.actor, now=now)
        actor = signin.authenticate(
            session, resident_settings, cookie=opened.token, bearer=None, now=now
        )
        assert actor.has("operator")
        made = signin.create_api_token(session, resident_settings, "ops", actor=actor, now=now)
        auth = {"cookie": None, "bearer": made.token}
        used = now + timedelta(minutes=20)
        assert signin.authenticate(session, resident_settings, **auth, now=used).has("operator")
        idle = used + timedelta(minutes=31)
        with pytest.raises(Unauthorized, match="idle"):
            signin.authenticate(session, resident_settings, **auth, now=idle)
        with pytest.raises(Unauthorized, match="revoked"):  # it does not come back
            signin.authenticate(session, resident_settings, **auth, now=idle)


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


def test_a_new_password_voids_every_other_reset_link(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    resident(app_client, box, "hu@example.org")
    links = []
    for _ in range(2):
        app_client.post(f"{ME}/password-reset", json={"email": "hu@example.org"})
        links.append(box.link("hu@example.org", "/reset"))
    older, newer = links
    assert older != newer
    used = {"token": newer, "password": "a whole new password"}
    assert app_client.post(f"{ME}/password", json=used).status_code == 204
    stale = {"token": older, "password": "the attacker's choice"}
    assert app_client.post(f"{ME}/password", json=stale).status_code == 422
    fresh = {"email": "hu@example.org", "password": "a whole new password"}
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
            session, resident_settings, "ti@example.org", PASSWORD, None, client=CLIENT, now=now
        )
        secret, _ = twofactor.setup_totp(session, actor=opened.actor)
        twofactor.confirm_totp(session, pyotp.TOTP(secret).at(now), actor=opened.actor, now=now)
        code = pyotp.TOTP(secret).at(now, counter_offset=1)
        signin.sign_in(
            session, resident_settings, "ti@example.org", PASSWORD, code, client=CLIENT, now=now
        )
        with pytest.raises(Unauthorized):
            signin.sign_in(
                session, resident_settings, "ti@example.org", PASSWORD, code, client=CLIENT, now=now
            )


def test_privileged_sessions_end_after_thirty_idle_minutes(
    factory: sessionmaker[Session], resident_settings: Settings
) -> None:
    now = utcnow()
    with factory() as session:
        service.sign_up(session, resident_settings, "id@example.org", PASSWORD, "", now=now)
        grants.grant_role(session, "id@example.org", "moderator", actor_id=None)
        opened = signin.sign_in(
            session, resident_settings, "id@example.org", PASSWORD, None, client=CLIENT, now=now
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
            session, resident_settings, "re@example.org", PASSWORD, None, client=CLIENT, now=now
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
