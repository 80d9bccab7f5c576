"""Subscription actions and queries: create, read, delete, the delivery log, the index.

Every write is one transaction and announces `subscription.changed` through the outbox,
so every node's geofence index follows. Ownership is a manage token checked against its
SHA-256; a wrong token and a missing subscription answer the same (404).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from array import array
from datetime import datetime

import numpy as np
from h3.api import basic_int as h3i
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from townsquare import i18n
from townsquare.alerts import cells, optin
from townsquare.alerts.channels.registry import channel_for
from townsquare.alerts.index import GeofenceIndex, PolygonArea, cover
from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.alerts.schemas import (
    ChannelOut,
    ChannelRequest,
    CircleIn,
    CoverOut,
    DeliveryOut,
    PolygonIn,
    QuietHours,
    SubscriptionCreated,
    SubscriptionExists,
    SubscriptionIn,
    SubscriptionOut,
)
from townsquare.db import columns, transaction
from townsquare.errors import InvalidParameter, NotFound
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.settings import Settings

log = logging.getLogger(__name__)
REQUEUE_STATUSES = ("dead",)


def hash_token(token: str) -> str:
    """The stored form of a manage token."""
    return hashlib.sha256(token.encode()).hexdigest()


def cells_of_shape(area: CircleIn | PolygonIn) -> tuple[int, ...]:
    """The cover the server keeps of a shape it is given (the shape itself is not kept)."""
    if isinstance(area, CircleIn):
        return cells.circle_cells(area.lat, area.lon, area.radius_m)
    rings = tuple(tuple((float(x), float(y)) for x, y in r) for r in area.coordinates)
    return cells.polygon_cells(PolygonArea(rings))


def _channel_row(given: ChannelRequest, now: datetime) -> tuple[Channel, str | None]:
    stored = channel_for(given.kind).store(given.target, now)
    confirmed = now if stored.confirmed else None  # e-mail: only from the mailed link
    row = Channel(kind=given.kind, target=stored.target, secret=stored.secret)
    row.confirmed_at = confirmed
    return row, stored.secret


def check_channels(data: SubscriptionIn, settings: Settings) -> None:
    """Refuse a channel the server could never deliver to (a webhook to a private address,
    a name that does not resolve), naming the field and why, before anything is stored."""
    for given in data.channels:
        check = getattr(channel_for(given.kind), "check", None)
        why = check(given.target, settings) if callable(check) else None
        if why:
            field = channel_for(given.kind).form_field or "channels"
            raise InvalidParameter(field, str(why))


def create_subscription(
    factory: sessionmaker[Session],
    data: SubscriptionIn,
    *,
    actor: str,
    now: datetime,
    settings: Settings | None = None,
) -> SubscriptionCreated | SubscriptionExists:
    """Store a watch area's cover with its channels; the token is returned only here.

    An e-mail address gets a confirmation link (mailed after the commit) and nothing else
    until it follows it. An address that already watches the same cover gets no second
    subscription: its confirmation is mailed again if still pending, and the answer says so.
    """
    settings = settings or Settings()
    found = cells_of_shape(data.area)
    key = cells.cover_key(found)
    token = secrets.token_urlsafe(32)
    quiet = data.quiet_hours
    mails: list[tuple[str, str]] = []
    with transaction(factory) as session:
        existing = optin.duplicates(session, key, data)
        if existing:
            mails = [optin.renew(row, now) for row in existing if row.confirmed_at is None]
            session.flush()
            log.info("subscription exists", extra={"actor": actor})
        else:
            sub = Subscription(
                manage_token_hash=hash_token(token),
                name=data.name,
                cover_key=key,
                categories=list(data.categories),
                min_severity=data.min_severity,
                urgent_severity=data.urgent_severity,
                quiet_start=quiet.start if quiet else None,
                quiet_end=quiet.end if quiet else None,
                time_zone=quiet.time_zone if quiet else "UTC",
                language=i18n.current(),
                created_at=now,
                updated_at=now,
            )
            session.add(sub)
            session.flush()
            secrets_by_channel: dict[int, str] = {}
            for given in data.channels:
                row, secret = _channel_row(given, now)
                row.subscription_id = sub.id
                if row.kind == "email":
                    mails.append(optin.renew(row, now))
                session.add(row)
                session.flush()
                if secret:
                    secrets_by_channel[row.id] = secret
            session.add_all([AreaCell(subscription_id=sub.id, cell=c) for c in found])
            announce(session, topics.SUBSCRIPTION_CHANGED, {"id": sub.id})
            out = _out(session, sub)
    for address, confirm in mails:  # after the commit: the link must work when it arrives
        optin.send_confirmation(settings, address, confirm)
    if existing:
        return SubscriptionExists()
    log.info("subscription created", extra={"subscription": sub.id, "actor": actor})
    return SubscriptionCreated(
        subscription=out, manage_token=token, webhook_secrets=secrets_by_channel
    )


def _owned(session: Session, subscription_id: int, token: str) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None or not hmac.compare_digest(sub.manage_token_hash, hash_token(token)):
        raise NotFound(f"subscription {subscription_id} not found")
    return sub


def _out(session: Session, sub: Subscription) -> SubscriptionOut:
    channels = session.scalars(
        select(Channel).where(Channel.subscription_id == sub.id).order_by(Channel.id)
    )
    stored = stored_cells(session, sub.id)
    area = CoverOut(
        resolution=max(_resolution(c) for c in stored),
        cells=[h3i.int_to_str(c) for c in stored],
    )
    quiet = None
    if sub.quiet_start and sub.quiet_end:
        quiet = QuietHours(start=sub.quiet_start, end=sub.quiet_end, time_zone=sub.time_zone)
    shown = [
        ChannelOut.model_validate(columns(c) | {"confirmed": c.confirmed_at is not None})
        for c in channels
    ]
    extras = {"area": area, "quiet_hours": quiet, "channels": shown}
    return SubscriptionOut.model_validate(columns(sub) | extras)


def get_subscription(session: Session, subscription_id: int, token: str) -> SubscriptionOut:
    """The owner's view of a subscription."""
    return _out(session, _owned(session, subscription_id, token))


def delete_subscription(
    factory: sessionmaker[Session], subscription_id: int, token: str, *, actor: str
) -> None:
    """Delete a subscription with its channels, cover and delivery log."""
    with transaction(factory) as session:
        sub = _owned(session, subscription_id, token)
        optin.delete_subscription_rows(session, sub.id)
    log.info("subscription deleted", extra={"subscription": subscription_id, "actor": actor})


def list_deliveries(
    session: Session,
    subscription_id: int,
    token: str,
    *,
    status: str | None = None,
    limit: int = 100,
) -> list[DeliveryOut]:
    """The delivery log of one subscription, newest first (status=dead: the dead letters)."""
    _owned(session, subscription_id, token)
    stmt = (
        select(Delivery, Channel.kind)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(Delivery.subscription_id == subscription_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(Delivery.status == status)
    return [
        DeliveryOut.model_validate(columns(d) | {"channel_kind": kind})
        for d, kind in session.execute(stmt)
    ]


def retry_dead_letters(
    factory: sessionmaker[Session], subscription_id: int, token: str, *, actor: str, now: datetime
) -> int:
    """Queue the subscription's dead letters once more; returns how many."""
    with transaction(factory) as session:
        _owned(session, subscription_id, token)
        result = session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == subscription_id, Delivery.status == "dead")
            .values(status="retrying", attempts=0, next_attempt_at=now)
        )
        count = int(getattr(result, "rowcount", 0) or 0)
    log.info("dead letters requeued", extra={"subscription": subscription_id, "actor": actor})
    return count


def stored_cells(session: Session, subscription_id: int) -> tuple[int, ...]:
    """The cover of one subscription, sorted."""
    return tuple(
        session.scalars(
            select(AreaCell.cell)
            .where(AreaCell.subscription_id == subscription_id)
            .order_by(AreaCell.cell)
        )
    )


def _resolution(cell: int) -> int:
    return (cell >> 52) & 0xF  # H3 index bits 52-55 hold the resolution


def load_index(session: Session) -> GeofenceIndex:
    """Rebuild the geofence index from the store: the stored cells are the areas.

    Rows go straight into flat arrays (no Python object per row or per area), so a million
    subscriptions load in a few hundred megabytes.
    """
    ids, found = array("q"), array("q")
    rows = session.execute(
        select(AreaCell.subscription_id, AreaCell.cell).execution_options(yield_per=50_000)
    )
    for part in rows.partitions():
        for sub_id, cell in part:
            ids.append(sub_id)
            found.append(cell)
    return GeofenceIndex.from_cells(np.array(ids, np.int64), np.array(found, np.int64))


def refresh_index(factory: sessionmaker[Session], index: GeofenceIndex, sub_id: int) -> None:
    """Bring one subscription's entry up to date (after `subscription.changed`)."""
    with factory() as session:
        found = stored_cells(session, sub_id)
        live = session.scalar(select(Subscription.id).where(Subscription.id == sub_id))
    if live is None or not found:
        index.remove(sub_id)
        return
    area = cells.cell_area(found)
    index.add(sub_id, area, cover(area))
