"""Two-factor sign-in (TOTP): set up, confirm, and turn off while no role needs it.

Either change is a credential change: unused password-reset links stop working; turning it
off also revokes the API tokens, which carried the second factor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import security, signin
from townsquare.accounts.models import (
    PRIVILEGED,
    Account,
    AccountSession,
    ApiToken,
)
from townsquare.accounts.schemas import Actor
from townsquare.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
)


def setup_totp(session: Session, *, actor: Actor) -> tuple[str, str]:
    """Start two-factor enrolment: a new secret (not active until confirmed) and its URI."""
    account = session.get_one(Account, actor.account_id)
    if account.totp_enabled:
        raise Conflict("two-factor sign-in is already on")
    account.totp_secret = security.new_totp_secret()
    session.commit()
    return account.totp_secret, security.totp_uri(account.totp_secret, account.email)


def confirm_totp(session: Session, code: str, *, actor: Actor, now: datetime) -> None:
    """Turn two-factor sign-in on with a first valid code; the session gains its roles."""
    account = session.get_one(Account, actor.account_id)
    if account.totp_enabled or not account.totp_secret:
        raise Conflict("start two-factor setup first")
    step = security.totp_step(account.totp_secret, code, now, account.totp_last_step)
    if step is None:
        raise InvalidParameter("code", "this code is not valid now")
    account.totp_enabled = True
    account.totp_last_step = step
    if actor.session_id is not None:
        session.get_one(AccountSession, actor.session_id).second_factor = True
    signin.void_reset_links(session, account.id, now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.enable_totp",
        subject_id=account.id,
    )
    session.commit()


def totp_in_setup(session: Session, *, actor: Actor) -> tuple[str, str] | None:
    """The secret and URI of a two-factor setup begun but not yet confirmed, if any."""
    account = session.get_one(Account, actor.account_id)
    if account.totp_enabled or not account.totp_secret:
        return None
    return account.totp_secret, security.totp_uri(account.totp_secret, account.email)


def disable_totp(session: Session, code: str, *, actor: Actor, now: datetime) -> None:
    """Turn two-factor sign-in off with a current code; refused while a role needs it."""
    account = session.get_one(Account, actor.account_id)
    if not account.totp_enabled or not account.totp_secret:
        raise Conflict("two-factor sign-in is not on")
    if PRIVILEGED & set(account.roles):
        raise Forbidden("your roles need two-factor sign-in; it cannot be turned off")
    step = security.totp_step(account.totp_secret, code, now, account.totp_last_step)
    if step is None:
        raise InvalidParameter("code", "this code is not valid now")
    account.totp_enabled = False
    account.totp_secret = None
    account.totp_last_step = None
    session.execute(
        update(AccountSession)
        .where(AccountSession.account_id == account.id)
        .values(second_factor=False)
    )
    session.execute(  # tokens carried the second factor of the session that made them
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    signin.void_reset_links(session, account.id, now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.disable_totp",
        subject_id=account.id,
    )
    session.commit()
