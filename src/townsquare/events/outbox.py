"""Outbox and bus: changes are announced only after the transaction that made them commits.

An action writes `OutboxEvent` rows in its own transaction (`announce`); after commit the
relay reads unrelayed rows in order, hands them to the bus, and marks them relayed. A crash
between the two re-sends, so consumers must be idempotent (they are keyed by incident id).
The relay adds `event_id` (the outbox row id, one sequence for every node sharing the store)
to each payload: live streams resume from it and NATS deduplicates re-sends by it.

Two kinds of subscription: `subscribe` reaches every process (feed index, live streams,
geofence index), `subscribe_shared(group, ...)` reaches one process of the group per event
(alert matching). In one process both are the same; across nodes NATS JetStream makes the
difference (`townsquare.events.nats`). `subscribe_shared_batch` is the shared kind taking
events in batches, in order (whatever the relay sent at once, or NATS fetched at once), so a
consumer can decide many events in one transaction: on SQLite each commit is an fsync.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from townsquare.db import Base, UTCDateTime, transaction, utcnow
from townsquare.events.bus import Bus


class OutboxEvent(Base):
    """One announcement, written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "relayed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), comment="e.g. incident.published")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, comment="ids only, never personal data")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


WAKE_CHANNEL = "townsquare_outbox"
"""The PostgreSQL NOTIFY channel an announcing transaction wakes relays on."""
NOTIFIED = "townsquare.outbox_notified"
"""Session.info key: the transaction that sent its wake-up already (one per transaction)."""
ANNOUNCED = "townsquare.announced"
"""Session.info key: this transaction queued events (a serving process relays on commit)."""


def announce(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Queue an event in the caller's transaction; it is relayed only if that commits."""
    session.add(OutboxEvent(topic=topic, payload=payload, created_at=utcnow()))
    if session.get_bind().dialect.name == "postgresql":
        session.connection()  # the transaction begun, so it can be told apart from the last
        transaction = session.get_transaction()
        if session.info.get(NOTIFIED) is not transaction:
            session.info[NOTIFIED] = transaction
            # delivered on commit only: wakes every process's relay (`townsquare.events.wake`)
            session.execute(select(func.pg_notify(WAKE_CHANNEL, "")))
    session.info[ANNOUNCED] = True


def announce_many(session: Session, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Queue events in order in the caller's transaction, in one statement (a batch's)."""
    if not events:
        return
    at = utcnow()
    rows = [{"topic": t, "payload": p, "created_at": at, "relayed_at": None} for t, p in events]
    session.execute(insert(Base.metadata.tables[OutboxEvent.__tablename__]), rows)
    session.info[ANNOUNCED] = True


def relay(factory: sessionmaker[Session], bus: Bus, batch: int = 500) -> int:
    """Send every unrelayed event to the bus in order; returns how many were sent."""
    sent = 0
    while True:
        with transaction(factory) as session:
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.relayed_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            bus.publish_batch([(row.topic, {**row.payload, "event_id": row.id}) for row in rows])
            relayed_at = utcnow()
            for row in rows:
                row.relayed_at = relayed_at
            sent += len(rows)
        if len(rows) < batch:
            return sent
