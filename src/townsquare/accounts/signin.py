"""Signing in and out: passwords, the two-factor step, sessions and the API tokens made in them."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import security, throttle
from townsquare.accounts.models import (
    PRIVILEGED,
    Account,
    AccountSession,
    ApiToken,
    EmailToken,
)
from townsquare.accounts.schemas import Actor
from townsquare.errors import (
    Forbidden,
    Unauthorized,
)
from townsquare.settings import Settings

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
PENDING_LIFETIME = timedelta(minutes=5)  # between a right password and the two-factor code


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: the cookie value (shown once) and the caller it stands for."""

    token: str
    actor: Actor


class SecondFactorRequired(Unauthorized):
    """The password was right, but the account needs a two-factor code to open a session.

    `pending` is a signed, five-minute token standing for the checked password: the second
    step sends it with the code (`sign_in_with_code`) instead of the password.
    """

    def __init__(self, pending: str, *, wrong_code: bool) -> None:
        super().__init__("a valid two-factor code is required")
        self.pending = pending
        self.wrong_code = wrong_code


class PendingSignInInvalid(Unauthorized):
    """A pending sign-in token that is forged, expired or already used: start again."""

    def __init__(self) -> None:
        super().__init__("this sign-in has expired; enter your password again")


def _active_roles(account: Account, second_factor: bool) -> frozenset[str]:
    roles = frozenset(account.roles)
    return roles if second_factor else roles - PRIVILEGED


def _password_checked(
    session: Session, settings: Settings, email: str, password: str, client: str, now: datetime
) -> Account:
    """The account whose password this is; Unauthorized (a failure counted) otherwise."""
    throttle.check(session, settings, email, client, now)
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if not security.check_password(account.password_hash if account else None, password):
        throttle.failed(session, settings, email, client, now)
        raise Unauthorized("wrong e-mail or password")
    assert account is not None  # a password matched, so the account exists
    return account


def _pending_mac(settings: Settings, account: Account, payload: str) -> str:
    # Bound to the password hash and the last accepted TOTP step: a new password, or any
    # code accepted since (this token's own sign-in included), makes the token unusable.
    key = security.server_secret(settings)
    message = f"sign-in|{payload}|{account.password_hash}|{account.totp_last_step}"
    return security.keyed_digest(key, message)


def _pending_token(settings: Settings, account: Account, now: datetime) -> str:
    expires = int((now + PENDING_LIFETIME).timestamp())
    body = {"a": account.id, "e": expires, "n": secrets.token_urlsafe(8)}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{payload}.{_pending_mac(settings, account, payload)}"


def _pending_account(session: Session, settings: Settings, token: str, now: datetime) -> Account:
    payload, _, mac = token.partition(".")
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        account_id, expires = int(body["a"]), int(body["e"])
    except (ValueError, KeyError, TypeError):
        raise PendingSignInInvalid() from None
    account = session.get(Account, account_id)
    if (
        account is None
        or not account.totp_enabled
        or not security.same(mac, _pending_mac(settings, account, payload))
        or now.timestamp() >= expires
    ):
        raise PendingSignInInvalid()
    return account


def _second_factor(
    session: Session,
    settings: Settings,
    account: Account,
    totp: str | None,
    client: str,
    now: datetime,
) -> None:
    """Accept a valid, unused code; SecondFactorRequired (with a pending token) otherwise."""
    step = None
    if totp and account.totp_secret:
        step = security.totp_step(account.totp_secret, totp, now, account.totp_last_step)
    if step is None:
        if totp:
            throttle.failed(session, settings, account.email, client, now)
        raise SecondFactorRequired(_pending_token(settings, account, now), wrong_code=bool(totp))
    account.totp_last_step = step


def sign_in(
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    totp: str | None,
    *,
    client: str,
    now: datetime,
) -> NewSession:
    """Check the credentials (and TOTP once enabled) and open a session.

    `client` is the caller's address: failures are counted against it (`throttle`). With
    two-factor sign-in on and no valid code, raises `SecondFactorRequired`, whose pending
    token `sign_in_with_code` takes with the code within five minutes.
    """
    account = _password_checked(session, settings, email, password, client, now)
    if account.totp_enabled:
        _second_factor(session, settings, account, totp, client, now)
    return _open(session, settings, account, client, now)


def sign_in_with_code(
    session: Session, settings: Settings, pending: str, totp: str, *, client: str, now: datetime
) -> NewSession:
    """The second step: a pending token from `SecondFactorRequired` and a two-factor code.

    PendingSignInInvalid when the token is forged, over five minutes old or already used; a
    wrong code raises SecondFactorRequired again (and counts as a failed sign-in).
    """
    account = _pending_account(session, settings, pending, now)
    throttle.check(session, settings, account.email, client, now)
    _second_factor(session, settings, account, totp, client, now)
    return _open(session, settings, account, client, now)


def _open(
    session: Session, settings: Settings, account: Account, client: str, now: datetime
) -> NewSession:
    throttle.cleared(session, settings, account.email, client)
    token, hashed = security.new_secret()
    csrf, _ = security.new_secret()
    row = AccountSession(
        account_id=account.id,
        token_hash=hashed,
        csrf_token=csrf,
        second_factor=account.totp_enabled,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor_id=account.id,
        action="account.sign_in",
        object_type="session",
        object_id=row.id,
        subject_id=account.id,
        detail={"second_factor": row.second_factor},
    )
    session.commit()
    return NewSession(token, _actor(account, row))


def _actor(account: Account, row: AccountSession | None, via_token: bool = False) -> Actor:
    second = row.second_factor if row is not None else False
    return Actor(
        account_id=account.id,
        roles=_active_roles(account, second),
        # A token stands for its account, not for the session: it cannot sign out or mint.
        session_id=row.id if row is not None and not via_token else None,
        csrf_token=row.csrf_token if row is not None and not via_token else None,
        email_verified=account.email_verified_at is not None,
        via_token=via_token,
    )


def revoke_credentials(session: Session, account_id: int, now: datetime) -> None:
    """After a credential changed: every session ends, every token and unused reset link dies."""
    for row in session.scalars(
        select(AccountSession).where(
            AccountSession.account_id == account_id, AccountSession.ended_at.is_(None)
        )
    ):
        end_session(session, row, now)
    session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    void_reset_links(session, account_id, now)


def void_reset_links(session: Session, account_id: int, now: datetime) -> None:
    """Unused password-reset links of the account stop working."""
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.account_id == account_id,
            EmailToken.purpose == "reset",
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


def end_session(session: Session, row: AccountSession, now: datetime) -> None:
    """End a session and revoke the API tokens made in it."""
    row.ended_at = now
    session.execute(
        update(ApiToken)
        .where(ApiToken.session_id == row.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def authenticate(
    session: Session,
    settings: Settings,
    *,
    cookie: str | None,
    bearer: str | None,
    now: datetime,
) -> Actor:
    """The caller behind a session cookie or an API token; Unauthorized if none is live."""
    if bearer:
        return _by_token(session, settings, bearer, now)
    if not cookie:
        raise Unauthorized("sign in first")
    row = session.scalar(
        select(AccountSession).where(AccountSession.token_hash == security.digest(cookie))
    )
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise Unauthorized("this session has ended; sign in again")
    account = session.get_one(Account, row.account_id)
    idle = timedelta(minutes=settings.privileged_idle_minutes)
    if PRIVILEGED & set(account.roles) and now - row.last_seen_at > idle:
        end_session(session, row, now)
        session.commit()
        raise Unauthorized("signed out after 30 idle minutes; sign in again")
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return _actor(account, row)


def _by_token(session: Session, settings: Settings, bearer: str, now: datetime) -> Actor:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.digest(bearer)))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("this token is unknown or revoked")
    expires = token.expires_at or token.created_at + timedelta(days=settings.api_token_days)
    if expires <= now:
        raise Unauthorized("this token has expired; make a new one")
    account = session.get_one(Account, token.account_id)
    parent = session.get(AccountSession, token.session_id) if token.session_id else None
    idle = timedelta(minutes=settings.privileged_idle_minutes)
    second = parent.second_factor if parent is not None else False
    if (
        _active_roles(account, second) & PRIVILEGED
        and now - (token.last_used_at or token.created_at) > idle
    ):
        token.revoked_at = now
        session.commit()
        raise Unauthorized("this token was idle too long for its privileged roles; make a new one")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        session.commit()
    # A token carries the second factor of the session that made it.
    return _actor(account, parent, via_token=True)


def sign_out(session: Session, actor: Actor, *, now: datetime) -> None:
    """End the caller's session and revoke every API token made in it."""
    if actor.session_id is None:
        raise Forbidden("sign out from the session, not with a token")
    row = session.get_one(AccountSession, actor.session_id)
    end_session(session, row, now)
    audit.record(
        session,
        actor_id=actor.account_id,
        action="account.sign_out",
        object_type="session",
        object_id=row.id,
        subject_id=actor.account_id,
    )
    session.commit()


def create_api_token(
    session: Session, settings: Settings, name: str, *, actor: Actor, now: datetime
) -> TokenMade:
    """A new personal API token tied to the caller's session; the value is shown once."""
    if actor.session_id is None:
        raise Forbidden("tokens are made from a signed-in session")
    token, hashed = security.new_secret()
    row = ApiToken(
        account_id=actor.account_id,
        session_id=actor.session_id,
        name=name,
        token_hash=hashed,
        created_at=now,
        expires_at=now + timedelta(days=settings.api_token_days),
    )
    audit.record_row(
        session,
        row,
        actor_id=actor.account_id,
        action="account.create_token",
        subject_id=actor.account_id,
    )
    session.commit()
    return TokenMade(row.id, name, token)


@dataclass(frozen=True, slots=True)
class TokenMade:
    """A token just made."""

    id: int
    name: str
    token: str
