"""Double opt-in and one-click unsubscribe for e-mail watch areas.

Anyone can type anyone's address, so an e-mail channel sends nothing until its address
follows the confirmation link mailed to it; the link's token is random, kept only as its
SHA-256, and works for `CONFIRM_LIFETIME`. An address never confirmed is forgotten once its
link has expired. Every alert and digest mail carries a link that unsubscribes from the link
alone (no account, no cookie): its token is an HMAC of the channel id and address under the
server secret, so nothing more is stored and a link cannot be made for another channel.
Links are absolute, from the configured public URL, never from a request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.channels import SendError
from townsquare.alerts.channels.smtp import EmailTarget, send_mail
from townsquare.alerts.links import (
    confirm_url,
    normal,
    unsubscribe_token,
)
from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.alerts.schemas import SubscriptionIn
from townsquare.db import transaction
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.i18n import gettext as _
from townsquare.mail import message_id
from townsquare.settings import Settings

log = logging.getLogger(__name__)
CONFIRM_LIFETIME = timedelta(hours=48)
Confirmed = Literal["confirmed", "already", "expired", "unknown"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def duplicates(session: Session, cover_key: str, data: SubscriptionIn) -> list[Channel]:
    """E-mail channels of the request's addresses already on a subscription of the same cover."""
    wanted = {normal(c.target.address) for c in data.channels if isinstance(c.target, EmailTarget)}
    if not wanted:
        return []
    rows = session.scalars(
        select(Channel)
        .join(Subscription, Subscription.id == Channel.subscription_id)
        .where(Subscription.cover_key == cover_key, Channel.kind == "email")
        .order_by(Channel.id)
    )
    return [c for c in rows if normal(str(c.target.get("address", ""))) in wanted]


def renew(channel: Channel, now: datetime) -> tuple[str, str]:
    """Give an unconfirmed channel a fresh confirmation token; (address, token) to mail."""
    token = secrets.token_urlsafe(32)
    channel.confirm_token_hash = _digest(token)
    channel.confirm_expires_at = now + CONFIRM_LIFETIME
    return str(channel.target["address"]), token


def confirmation_mail(settings: Settings, address: str, token: str) -> EmailMessage:
    """The one mail an address gets before it confirms."""
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = address
    mail["Subject"] = _("Confirm alerts for a watch area on Townsquare")
    mail["Message-ID"] = message_id(settings, "confirm")
    hours = int(CONFIRM_LIFETIME.total_seconds() // 3600)
    body = _(
        "Someone asked Townsquare to send alerts about a watch area to this address.\n\n"
        "To start receiving them, open this link and press Confirm:\n"
        "%(url)s\n\n"
        "The link works for %(hours)s hours. If you did not ask for this, ignore this mail: "
        "nothing more will be sent, and the address is forgotten when the link expires.\n\n"
        "Once confirmed, every alert mail ends with a link that stops the alerts with one "
        "click, from any device.\n"
    )
    mail.set_content(body % {"url": confirm_url(settings, token), "hours": hours})
    return mail


def send_confirmation(settings: Settings, address: str, token: str) -> None:
    """Mail the confirmation link through the e-mail backend of alerts (smtp, console, null)."""
    backend = settings.alert_senders.get("email", "console")
    if backend == "null":
        return
    if backend == "console":  # the link is a secret: log that a mail was due, not the link
        log.info("confirmation mail (console sender)")
        return
    try:
        send_mail(settings, confirmation_mail(settings, address, token))
    except SendError as exc:  # subscribing again re-sends it
        log.warning("confirmation mail failed", extra={"error": exc.detail})


def confirm(factory: sessionmaker[Session], token: str, *, now: datetime) -> Confirmed:
    """Confirm the e-mail channel of a mailed token; alerts go to it from now on."""
    with transaction(factory) as session:
        row = session.scalar(select(Channel).where(Channel.confirm_token_hash == _digest(token)))
        if row is None:
            return "unknown"
        if row.confirmed_at is not None:
            return "already"
        expires = row.confirm_expires_at
        if expires is None or expires <= now:
            return "expired"
        row.confirmed_at = now
        row.confirm_token_hash, row.confirm_expires_at = None, None
        announce(session, topics.SUBSCRIPTION_CHANGED, {"id": row.subscription_id})
    log.info("e-mail channel confirmed", extra={"channel": row.id})
    return "confirmed"


def check_unsubscribe(session: Session, settings: Settings, token: str) -> Channel | None:
    """The channel an unsubscribe token names, if the token is right and the channel exists."""
    head, _, _mac = token.partition(".")
    if not head.isdigit():
        return None
    row = session.get(Channel, int(head))
    if row is None or row.kind != "email":
        return None
    expected = unsubscribe_token(settings, row.id, str(row.target.get("address", "")))
    return row if hmac.compare_digest(expected, token) else None


def unsubscribe(factory: sessionmaker[Session], settings: Settings, token: str) -> bool:
    """Forget the channel of an unsubscribe link (and its area if nothing else is left).

    True if it unsubscribed now; False if the link names nothing (already unsubscribed).
    """
    with transaction(factory) as session:
        row = check_unsubscribe(session, settings, token)
        if row is None:
            return False
        sub_id = row.subscription_id
        _delete_channels(session, sub_id, [row.id])
    log.info("unsubscribed from the mailed link", extra={"subscription": sub_id})
    return True


def _delete_channels(session: Session, sub_id: int, channel_ids: list[int]) -> None:
    """Delete channels with their log; a subscription left with none goes too."""
    session.execute(delete(Delivery).where(Delivery.channel_id.in_(channel_ids)))
    session.execute(delete(Channel).where(Channel.id.in_(channel_ids)))
    left = session.scalar(select(Channel.id).where(Channel.subscription_id == sub_id).limit(1))
    if left is None:
        delete_subscription_rows(session, sub_id)
    else:
        announce(session, topics.SUBSCRIPTION_CHANGED, {"id": sub_id})


def delete_subscription_rows(session: Session, sub_id: int) -> None:
    """Delete a subscription with its cover, channels and delivery log (in this transaction)."""
    for table in (Delivery, AreaCell, Channel):
        session.execute(delete(table).where(table.subscription_id == sub_id))
    session.execute(delete(Subscription).where(Subscription.id == sub_id))
    announce(session, topics.SUBSCRIPTION_CHANGED, {"id": sub_id})


def forget_unconfirmed(factory: sessionmaker[Session], *, now: datetime) -> int:
    """Delete e-mail channels whose confirmation link expired unused; returns how many."""
    with transaction(factory) as session:
        rows = session.execute(
            select(Channel.id, Channel.subscription_id).where(
                Channel.kind == "email",
                Channel.confirmed_at.is_(None),
                Channel.confirm_expires_at < now,
            )
        ).all()
        by_sub: dict[int, list[int]] = {}
        for channel_id, sub_id in rows:
            by_sub.setdefault(sub_id, []).append(channel_id)
        for sub_id, ids in by_sub.items():
            _delete_channels(session, sub_id, ids)
    return len(rows)
