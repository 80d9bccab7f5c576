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
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.index import Area, CircleArea, Cover, GeofenceIndex, PolygonArea, cover
from townsquare.alerts.models import AreaCell, Channel, Delivery, Subscription
from townsquare.alerts.schemas import (
    ChannelOut,
    CircleIn,
    DeliveryOut,
    EmailChannelIn,
    PolygonIn,
    QuietHours,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    WebhookChannelIn,
)
from townsquare.db import transaction
from townsquare.errors import NotFound
from townsquare.events import announce

log = logging.getLogger(__name__)
TOPIC = "subscription.changed"
REQUEUE_STATUSES = ("dead",)


def hash_token(token: str) -> str:
    """The stored form of a manage token."""
    return hashlib.sha256(token.encode()).hexdigest()


def area_of(sub: Subscription) -> Area:
    """The geofence area of a stored subscription."""
    if sub.area_kind == "circle":
        assert sub.radius_m is not None
        return CircleArea(sub.lat, sub.lon, sub.radius_m)
    assert sub.polygon is not None
    rings = tuple(tuple((float(x), float(y)) for x, y in r) for r in sub.polygon["coordinates"])
    return PolygonArea(rings)


def _channel_row(channel: Any) -> tuple[Channel, str | None]:
    if isinstance(channel, EmailChannelIn):
        return Channel(kind="email", target={"address": channel.address}), None
    if isinstance(channel, WebhookChannelIn):
        secret = secrets.token_urlsafe(32)
        return Channel(kind="webhook", target={"url": channel.url}, secret=secret), secret
    target = {"endpoint": channel.endpoint, "keys": channel.keys.model_dump()}
    return Channel(kind="webpush", target=target), None


def create_subscription(
    factory: sessionmaker[Session], data: SubscriptionIn, *, actor: str, now: datetime
) -> SubscriptionCreated:
    """Store a watch area with its channels and cover; the token is returned only here."""
    token = secrets.token_urlsafe(32)
    area = data.area
    if isinstance(area, CircleIn):
        lat, lon, radius, polygon = area.lat, area.lon, area.radius_m, None
    else:
        outer = area.coordinates[0][:-1]
        lat = sum(p[1] for p in outer) / len(outer)
        lon = sum(p[0] for p in outer) / len(outer)
        radius, polygon = None, {"type": "Polygon", "coordinates": area.coordinates}
    quiet = data.quiet_hours
    sub = Subscription(
        manage_token_hash=hash_token(token),
        name=data.name,
        area_kind=area.type,
        lat=lat,
        lon=lon,
        radius_m=radius,
        polygon=polygon,
        categories=list(data.categories),
        min_severity=data.min_severity,
        urgent_severity=data.urgent_severity,
        quiet_start=quiet.start if quiet else None,
        quiet_end=quiet.end if quiet else None,
        time_zone=quiet.time_zone if quiet else "UTC",
        created_at=now,
        updated_at=now,
    )
    with transaction(factory) as session:
        session.add(sub)
        session.flush()
        secrets_by_channel: dict[int, str] = {}
        for given in data.channels:
            row, secret = _channel_row(given)
            row.subscription_id = sub.id
            session.add(row)
            session.flush()
            if secret:
                secrets_by_channel[row.id] = secret
        found = cover(area_of(sub))
        session.add_all(
            [AreaCell(subscription_id=sub.id, cell=c, inside=True) for c in found.inside]
            + [AreaCell(subscription_id=sub.id, cell=c, inside=False) for c in found.edge]
        )
        announce(session, TOPIC, {"id": sub.id})
        out = _out(session, sub)
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
    area: CircleIn | PolygonIn
    if sub.area_kind == "circle":
        assert sub.radius_m is not None
        area = CircleIn(lat=sub.lat, lon=sub.lon, radius_m=sub.radius_m)
    else:
        assert sub.polygon is not None
        area = PolygonIn(coordinates=sub.polygon["coordinates"])
    quiet = None
    if sub.quiet_start and sub.quiet_end:
        quiet = QuietHours(start=sub.quiet_start, end=sub.quiet_end, time_zone=sub.time_zone)
    return SubscriptionOut(
        id=sub.id,
        name=sub.name,
        area=area,
        categories=list(sub.categories),
        min_severity=sub.min_severity,
        urgent_severity=sub.urgent_severity,
        quiet_hours=quiet,
        channels=[
            ChannelOut(id=c.id, kind=c.kind, target=c.target, active=c.active) for c in channels
        ],
        created_at=sub.created_at,
    )


def get_subscription(session: Session, subscription_id: int, token: str) -> SubscriptionOut:
    """The owner's view of a subscription."""
    return _out(session, _owned(session, subscription_id, token))


def delete_subscription(
    factory: sessionmaker[Session], subscription_id: int, token: str, *, actor: str
) -> None:
    """Delete a subscription with its channels, cover and delivery log."""
    with transaction(factory) as session:
        sub = _owned(session, subscription_id, token)
        for table in (Delivery, AreaCell, Channel):
            session.query(table).filter_by(subscription_id=sub.id).delete()
        session.delete(sub)
        announce(session, TOPIC, {"id": subscription_id})
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
        DeliveryOut(
            id=d.id,
            channel_id=d.channel_id,
            channel_kind=kind,
            incident_id=d.incident_id,
            kind=d.kind,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
            sent_at=d.sent_at,
        )
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


def _covers(session: Session) -> dict[int, Cover]:
    inside: dict[int, list[int]] = {}
    edge: dict[int, list[int]] = {}
    rows = session.execute(
        select(AreaCell.subscription_id, AreaCell.cell, AreaCell.inside).execution_options(
            yield_per=50_000
        )
    )
    for sub_id, cell, is_inside in rows:
        (inside if is_inside else edge).setdefault(sub_id, []).append(cell)
    found: dict[int, Cover] = {}
    for sub_id in inside.keys() | edge.keys():
        cells = inside.get(sub_id, []) + edge.get(sub_id, [])
        res = _resolution(cells[0])
        found[sub_id] = Cover(res, tuple(inside.get(sub_id, ())), tuple(edge.get(sub_id, ())))
    return found


def _resolution(cell: int) -> int:
    return (cell >> 52) & 0xF  # H3 index bits 52-55 hold the resolution


def iter_areas(session: Session) -> Iterator[tuple[int, Area, Cover | None]]:
    """Every subscription's area with its stored cover (for the index at start)."""
    covers = _covers(session)
    for sub in session.scalars(select(Subscription).execution_options(yield_per=10_000)):
        yield sub.id, area_of(sub), covers.get(sub.id)


def load_index(session: Session) -> GeofenceIndex:
    """Rebuild the geofence index from the store."""
    return GeofenceIndex.build(iter_areas(session))


def refresh_index(factory: sessionmaker[Session], index: GeofenceIndex, sub_id: int) -> None:
    """Bring one subscription's entry up to date (after `subscription.changed`)."""
    with factory() as session:
        sub = session.get(Subscription, sub_id)
        if sub is None:
            index.remove(sub_id)
            return
        cells = session.execute(
            select(AreaCell.cell, AreaCell.inside).where(AreaCell.subscription_id == sub_id)
        ).all()
        area = area_of(sub)
    found = None
    if cells:
        found = Cover(
            _resolution(cells[0][0]),
            tuple(c for c, i in cells if i),
            tuple(c for c, i in cells if not i),
        )
    index.add(sub_id, area, found)
