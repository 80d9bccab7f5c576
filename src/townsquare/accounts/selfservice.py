"""What a signed-in person changes about their own account: the password, the e-mail address
(confirmed by a link sent to the new one) and every session at once.

A change of address is carried by a signed link rather than a stored row: the link names the
account and the new address, and its MAC covers the account's current address and password
hash, so it works once (the address it was made for is gone after), and a new password voids it.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from townsquare import audit, mail
from townsquare.accounts import security, signin, throttle
from townsquare.accounts.models import Account, AccountSession, ApiToken
from townsquare.accounts.schemas import Actor
from townsquare.errors import Conflict, Forbidden, InvalidParameter
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.settings import Settings

EMAIL_CHANGE_LIFETIME = timedelta(days=1)


def _password_again(
    session: Session,
    settings: Settings,
    account: Account,
    password: str,
    client: str,
    now: datetime,
) -> None:
    """The account's current password, counted as a sign-in failure when wrong."""
    throttle.check(session, settings, account.email, client, now)
    if not security.check_password(account.password_hash, password):
        throttle.failed(session, settings, account.email, client, now)
        session.commit()  # the failure counts even though the action is refused
        raise Forbidden(N_("your current password is not right"))


def _notify(settings: Settings, to: str, subject: str, body: str) -> None:
    mail.send(settings, mail.plain(to, subject, body), purpose="account")


def change_password(
    session: Session,
    settings: Settings,
    current: str,
    new: str,
    *,
    actor: Actor,
    client: str,
    now: datetime,
) -> None:
    """Set a new password given the current one; every other session, every API token and
    unused reset link ends (this session stays signed in)."""
    account = session.get_one(Account, actor.account_id)
    if not security.MIN_PASSWORD <= len(new) <= 200:
        raise InvalidParameter("password", N_("choose a new password of at least 10 characters"))
    _password_again(session, settings, account, current, client, now)
    account.password_hash = security.hash_password(new)
    for row in session.scalars(
        select(AccountSession).where(
            AccountSession.account_id == account.id,
            AccountSession.ended_at.is_(None),
            AccountSession.id != (actor.session_id or 0),
        )
    ):
        signin.end_session(session, row, now)
    session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    signin.void_reset_links(session, account.id, now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.change_password",
        subject_id=account.id,
    )
    session.commit()
    _notify(
        settings,
        account.email,
        _("Your Townsquare password was changed"),
        _(
            "The password of your Townsquare account was just changed, and every other session "
            "signed out.\nIf you did not do this, ask for a reset link at %(url)s\n"
        )
        % {"url": f"{settings.site_url()}/forgot-password"},
    )


def _change_mac(settings: Settings, account: Account, payload: str) -> str:
    message = f"email-change|{payload}|{account.email}|{account.password_hash}"
    return security.keyed_digest(security.server_secret(settings), message)


def _change_token(settings: Settings, account: Account, new: str, now: datetime) -> str:
    body = {"a": account.id, "n": new, "e": int((now + EMAIL_CHANGE_LIFETIME).timestamp())}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{payload}.{_change_mac(settings, account, payload)}"


def request_email_change(
    session: Session,
    settings: Settings,
    password: str,
    new_email: str,
    *,
    actor: Actor,
    client: str,
    now: datetime,
) -> None:
    """Mail a confirmation link to `new_email`; nothing changes until it is opened.

    When another account already has the address, that address is told so instead: the
    person asking learns nothing about who has an account.
    """
    account = session.get_one(Account, actor.account_id)
    new = security.normal_email(new_email)
    if new == account.email:
        raise InvalidParameter("email", N_("this is already your address"))
    _password_again(session, settings, account, password, client, now)
    audit.record_row(
        session,
        account,
        actor_id=account.id,
        action="account.request_email_change",
        subject_id=account.id,
    )
    session.commit()
    if session.scalar(select(Account.id).where(Account.email == new)) is not None:
        _notify(
            settings,
            new,
            _("Your Townsquare address"),
            _(
                "Someone asked to move another Townsquare account to this address, which "
                "already has an account. Nothing changed.\n"
            ),
        )
        return
    token = _change_token(settings, account, new, now)
    url = settings.absolute_url("/account/email/confirm", {"token": token})
    _notify(
        settings,
        new,
        _("Confirm your new Townsquare address"),
        _(
            "Open this link to make this your Townsquare address: %(url)s\n"
            "The link works for one day, once. If you did not ask for this, ignore it.\n"
        )
        % {"url": url},
    )


def confirm_email_change(session: Session, settings: Settings, token: str, *, now: datetime) -> str:
    """Move the link's account to its new address (confirmed by the opening); the old
    address is told. Returns the new address; InvalidParameter for a bad, used or old link."""
    payload, _sep, mac = token.partition(".")
    refused = InvalidParameter("token", N_("this link is unknown, used or expired"))
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        account_id, new, expires = int(body["a"]), str(body["n"]), int(body["e"])
    except (ValueError, KeyError, TypeError):
        raise refused from None
    account = session.get(Account, account_id)
    if (
        account is None
        or not security.same(mac, _change_mac(settings, account, payload))
        or now.timestamp() >= expires
    ):
        raise refused
    if session.scalar(select(Account.id).where(Account.email == new)) is not None:
        raise Conflict(N_("another account took this address meanwhile"))
    old = account.email
    account.email = new
    account.email_verified_at = now
    signin.void_reset_links(session, account.id, now)
    audit.record_row(
        session, account, actor_id=account.id, action="account.change_email", subject_id=account.id
    )
    session.commit()
    _notify(
        settings,
        old,
        _("Your Townsquare address was changed"),
        _(
            "Your Townsquare account now uses another e-mail address; this one no longer signs "
            "in.\nIf you did not do this, contact the site's operator.\n"
        ),
    )
    return new


def sign_out_everywhere(session: Session, *, actor: Actor, now: datetime) -> None:
    """End every session of the caller's account (this one too) and revoke its API tokens."""
    signin.revoke_credentials(session, actor.account_id, now)
    audit.record(
        session,
        actor_id=actor.account_id,
        action="account.sign_out_everywhere",
        object_type="account",
        object_id=actor.account_id,
        subject_id=actor.account_id,
    )
    session.commit()
