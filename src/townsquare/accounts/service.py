"""Account actions: sign-up, e-mail links (verify, reset) and the account itself.

Each commits once, audits what touches a person, and mails after commit. Signing in is
`signin`, two-factor `twofactor`, roles `grants`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit, i18n, mail
from townsquare.accounts import security, signin
from townsquare.accounts.models import (
    Account,
    EmailToken,
)
from townsquare.accounts.schemas import Actor, Me
from townsquare.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
)
from townsquare.i18n import gettext as _
from townsquare.settings import Settings

LINK_LIFETIME = {"verify": timedelta(days=2), "reset": timedelta(hours=1)}


def _link(session: Session, account_id: int, purpose: str, now: datetime) -> str:
    token, hashed = security.new_secret()
    session.add(
        EmailToken(
            account_id=account_id,
            purpose=purpose,
            token_hash=hashed,
            expires_at=now + LINK_LIFETIME[purpose],
        )
    )
    return token


def sign_up(
    session: Session, settings: Settings, email: str, password: str, name: str, *, now: datetime
) -> int:
    """Create a resident account and mail a verification link; returns the account id."""
    address = security.normal_email(email)
    if session.scalar(select(Account.id).where(Account.email == address)) is not None:
        raise Conflict("an account with this e-mail exists; sign in or reset the password")
    account = Account(
        email=address,
        password_hash=security.hash_password(password),
        display_name=name.strip(),
        roles=["resident"],
        totp_enabled=False,
        language=i18n.current(),
        created_at=now,
    )
    session.add(account)
    session.flush()
    token = _link(session, account.id, "verify", now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.sign_up",
        subject_id=account.id,
    )
    session.commit()
    url = f"{settings.site_url()}/verify?token={token}"
    message = mail.plain(
        address, _("Confirm your Townsquare address"), _("Confirm: %(url)s") % {"url": url} + "\n"
    )
    mail.send(settings, message, purpose="account")
    return account.id


def _mail_verify_link(
    session: Session, settings: Settings, account: Account, now: datetime
) -> None:
    """A fresh verification link for `account`, committed, then mailed."""
    token = _link(session, account.id, "verify", now)
    session.commit()
    url = f"{settings.site_url()}/verify?token={token}"
    message = mail.plain(account.email, "Confirm your Townsquare address", f"Confirm: {url}\n")
    mail.send(settings, message, purpose="account")


def resend_verification(session: Session, settings: Settings, email: str, *, now: datetime) -> None:
    """Mail a new verification link if `email` has an account not yet confirmed; nothing
    otherwise, so the caller answers the same whether or not the address has an account."""
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if account is None or account.email_verified_at is not None:
        return
    _mail_verify_link(session, settings, account, now)


def verify_address(session: Session, email: str, *, actor_id: int | None, now: datetime) -> bool:
    """Mark `email`'s address confirmed without its link (the operator's CLI); False when it
    already was. NotFound when no account has it."""
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if account is None:
        raise NotFound("no account has this e-mail")
    if account.email_verified_at is not None:
        return False
    account.email_verified_at = now
    audit.record_row(
        session,
        account,
        actor_id=actor_id,
        action="account.verify_email",
        subject_id=account.id,
        detail={"by": "operator"},
    )
    session.commit()
    return True


def _use_link(session: Session, token: str, purpose: str, now: datetime) -> EmailToken:
    row = session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == security.digest(token), EmailToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at < now:
        raise InvalidParameter("token", "this link is unknown, used or expired")
    row.used_at = now
    return row


def verify_email(session: Session, token: str, *, now: datetime) -> None:
    """Mark the address of the link's account verified."""
    link = _use_link(session, token, "verify", now)
    account = session.get_one(Account, link.account_id)
    account.email_verified_at = account.email_verified_at or now
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.verify_email",
        subject_id=account.id,
    )
    session.commit()


def request_password_reset(
    session: Session, settings: Settings, email: str, *, now: datetime
) -> None:
    """Mail a reset link if the account exists; the answer is the same either way."""
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if account is None:
        return
    token = _link(session, account.id, "reset", now)
    session.commit()
    url = f"{settings.site_url()}/reset?token={token}"
    message = mail.plain(
        account.email,
        _("Reset your Townsquare password"),
        _("Reset: %(url)s") % {"url": url} + "\n",
    )
    mail.send(settings, message, purpose="account")


def reset_password(session: Session, token: str, password: str, *, now: datetime) -> None:
    """Set a new password from a reset link; every session, token and other link ends."""
    link = _use_link(session, token, "reset", now)
    account = session.get_one(Account, link.account_id)
    account.password_hash = security.hash_password(password)
    signin.revoke_credentials(session, account.id, now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.reset_password",
        subject_id=account.id,
    )
    session.commit()


def me(session: Session, actor: Actor) -> Me:
    """The caller's own account."""
    account = session.get_one(Account, actor.account_id)
    return Me(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        roles=sorted(account.roles),
        active_roles=sorted(actor.roles),
        email_verified=account.email_verified_at is not None,
        totp_enabled=account.totp_enabled,
    )
