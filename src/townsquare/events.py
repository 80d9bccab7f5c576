"""Outbox and bus: changes are announced only after the transaction that made them commits.

An action writes `OutboxEvent` rows in its own transaction (`announce`); after commit the
relay reads unrelayed rows in order, hands them to the bus, and marks them relayed. A crash
between the two re-sends, so consumers must be idempotent (they are keyed by incident id).
The relay adds `event_id` (the outbox row id, one sequence for every node sharing the store)
to each payload: live streams resume from it and NATS deduplicates re-sends by it.

Two kinds of subscription: `subscribe` reaches every process (feed index, live streams,
geofence index), `subscribe_shared(group, ...)` reaches one process of the group per event
(alert matching). In one process both are the same; across nodes NATS JetStream makes the
difference (`townsquare.nats_bus`). `subscribe_shared_batch` is the shared kind taking
events in batches, in order (whatever the relay sent at once, or NATS fetched at once), so a
consumer can decide many events in one transaction: on SQLite each commit is an fsync.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from townsquare.db import Base, UTCDateTime, transaction, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
Event = tuple[str, dict[str, Any]]
"""(topic, payload)"""
BatchHandler = Callable[[list[Event]], None]


class OutboxEvent(Base):
    """One announcement, written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "relayed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), comment="e.g. incident.published")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, comment="ids only, never personal data")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def announce(session: Session, topic: str, payload: dict[str, Any]) -> None:
    """Queue an event in the caller's transaction; it is relayed only if that commits."""
    session.add(OutboxEvent(topic=topic, payload=payload, created_at=utcnow()))


class Bus(Protocol):
    """Where relayed events go; in-process by default, NATS JetStream across nodes."""

    def open(self) -> None:
        """Connect (no-op in process); called once by the platform at start."""

    def close(self) -> None:
        """Stop delivering and disconnect."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Deliver one event; returns once the bus has it (durably, for NATS)."""

    def publish_batch(self, events: Sequence[Event]) -> None:
        """Deliver events in order; returns once the bus has all of them."""

    def subscribe(self, handler: Handler) -> None:
        """Call `handler(topic, payload)` in this process for every event from now on."""

    def subscribe_shared(self, group: str, handler: Handler) -> None:
        """Call `handler` for every event in exactly one process of `group` (at least once)."""

    def subscribe_shared_batch(self, group: str, handler: BatchHandler) -> None:
        """`subscribe_shared`, with the events handed over in batches, in order."""


class MemoryBus:
    """The in-process bus: synchronous fan-out to the handlers of this process."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._batch_handlers: list[BatchHandler] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Nothing to connect to."""

    def close(self) -> None:
        """Forget every handler."""
        with self._lock:
            self._handlers.clear()
            self._batch_handlers.clear()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Call every handler; one failing handler does not stop the others."""
        self.publish_batch([(topic, payload)])

    def publish_batch(self, events: Sequence[Event]) -> None:
        """Each event to every per-event handler in order, then the batch to batch handlers."""
        if not events:
            return
        with self._lock:
            handlers = list(self._handlers)
            batch_handlers = list(self._batch_handlers)
        for topic, payload in events:
            for handler in handlers:
                try:
                    handler(topic, payload)
                except Exception:
                    log.exception("event handler failed", extra={"topic": topic})
        for batch_handler in batch_handlers:
            try:
                batch_handler(list(events))
            except Exception:
                log.exception("batch event handler failed", extra={"events": len(events)})

    def subscribe(self, handler: Handler) -> None:
        """Add a handler."""
        with self._lock:
            self._handlers.append(handler)

    def subscribe_shared(self, group: str, handler: Handler) -> None:
        """One process is the whole group: the same as `subscribe`."""
        self.subscribe(handler)

    def subscribe_shared_batch(self, group: str, handler: BatchHandler) -> None:
        """Add a batch handler: it gets each published batch once, after the per-event ones."""
        with self._lock:
            self._batch_handlers.append(handler)


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
