"""The delivery worker and the digest job.

Due deliveries are claimed with a lease (their next attempt moved `LEASE` ahead, rows
locked with SKIP LOCKED on PostgreSQL) so several nodes never send the same one; a node
that dies mid-send leaves the lease to run out and another node sends it again. Failures
back off exponentially; after `alert_max_attempts`, or at once when retrying cannot help,
a delivery is dead-lettered for its owner to see (and requeue). The outcomes of a batch
are stored in one transaction: on SQLite each commit is an fsync, the dearest step here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.channels import Outgoing, Sender, SendError
from townsquare.alerts.matching import in_quiet_hours, message
from townsquare.alerts.models import Channel, Delivery, Subscription
from townsquare.db import transaction
from townsquare.incidents.models import Incident
from townsquare.settings import Settings

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
BATCH = 64
PARALLEL = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt."""

    delivery_id: int
    error: SendError | None


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before the next attempt after `attempts` failed ones: base · 2^(attempts-1)."""
    return timedelta(seconds=settings.alert_retry_base_s * 2 ** max(0, attempts - 1))


def claim_due(factory: sessionmaker[Session], now: datetime, limit: int = BATCH) -> list[Outgoing]:
    """Lease up to `limit` due deliveries to this worker."""
    with transaction(factory) as session:
        rows = session.execute(
            select(Delivery, Channel)
            .join(Channel, Channel.id == Delivery.channel_id)
            .where(Delivery.status.in_(("queued", "retrying")), Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
        ).all()
        claimed = []
        for delivery, channel in rows:
            if not channel.active or channel.confirmed_at is None:
                delivery.status, delivery.last_error = "dead", "channel is gone or unconfirmed"
                continue
            delivery.next_attempt_at = now + LEASE
            claimed.append(
                Outgoing(
                    delivery.id,
                    channel.kind,
                    channel.target,
                    channel.secret,
                    delivery.body,
                    channel.id,
                )
            )
    return claimed


def record(
    factory: sessionmaker[Session], outcome: Outcome, *, settings: Settings, now: datetime
) -> None:
    """Store the result of one attempt: sent, retry later, or dead letter."""
    record_all(factory, [outcome], settings=settings, now=now)


def record_all(
    factory: sessionmaker[Session],
    outcomes: Sequence[Outcome],
    *,
    settings: Settings,
    now: datetime,
) -> None:
    """Store the results of a batch of attempts in one transaction (one commit, not one each)."""
    if not outcomes:
        return
    with transaction(factory) as session:
        ids = [o.delivery_id for o in outcomes]
        rows = {d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))}
        for outcome in outcomes:
            row = rows.get(outcome.delivery_id)
            if row is not None:  # gone with its subscription meanwhile: nothing to note
                _apply(session, row, outcome.error, settings=settings, now=now)


def _apply(
    session: Session,
    delivery: Delivery,
    error: SendError | None,
    *,
    settings: Settings,
    now: datetime,
) -> None:
    delivery.attempts += 1
    if error is None:
        delivery.status, delivery.sent_at = "sent", now
        delivery.next_attempt_at, delivery.last_error = None, None
        return
    delivery.last_error = error.detail[:1000]
    if error.gone:
        session.get_one(Channel, delivery.channel_id).active = False
    if error.permanent or delivery.attempts >= settings.alert_max_attempts:
        delivery.status, delivery.next_attempt_at = "dead", None
    else:
        delivery.status = "retrying"
        delivery.next_attempt_at = now + backoff(settings, delivery.attempts)


def _attempt(senders: dict[str, Sender], outgoing: Outgoing) -> Outcome:
    sender = senders.get(outgoing.kind)
    if sender is None:
        return Outcome(
            outgoing.delivery_id, SendError(f"no sender for {outgoing.kind}", permanent=True)
        )
    try:
        sender.send(outgoing)
    except SendError as exc:
        return Outcome(outgoing.delivery_id, exc)
    except Exception as exc:  # a sender bug must not kill the worker; the row says what
        log.exception("sender failed unexpectedly", extra={"delivery": outgoing.delivery_id})
        return Outcome(outgoing.delivery_id, SendError(f"{type(exc).__name__}: {exc}"))
    return Outcome(outgoing.delivery_id, None)


def deliver_due(
    factory: sessionmaker[Session],
    senders: dict[str, Sender],
    *,
    settings: Settings,
    now: datetime,
    pool: ThreadPoolExecutor | None = None,
) -> int:
    """Send every due delivery once; returns how many were attempted."""
    claimed = claim_due(factory, now)
    if not claimed:
        return 0
    if pool is None or len(claimed) == 1:
        outcomes = [_attempt(senders, o) for o in claimed]
    else:
        outcomes = list(pool.map(lambda o: _attempt(senders, o), claimed))
    record_all(factory, outcomes, settings=settings, now=now)
    return len(claimed)


def send_digests(factory: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    """Turn held deliveries whose wait is over into one digest per channel; returns how many."""
    made = 0
    with transaction(factory) as session:
        held = session.scalars(
            select(Delivery).where(Delivery.status == "held").order_by(Delivery.id)
        ).all()
        by_sub: dict[int, list[Delivery]] = {}
        for row in held:
            by_sub.setdefault(row.subscription_id, []).append(row)
        for sub_id, rows in by_sub.items():
            sub = session.get_one(Subscription, sub_id)
            due = min(r.created_at for r in rows) <= now - timedelta(
                seconds=settings.alert_digest_interval_s
            )
            if not due or in_quiet_hours(sub, now):
                continue
            made += _digest(session, sub, rows, settings=settings, now=now)
    return made


def _digest(
    session: Session, sub: Subscription, rows: list[Delivery], *, settings: Settings, now: datetime
) -> int:
    by_channel: dict[int, list[Delivery]] = {}
    for row in rows:
        by_channel.setdefault(row.channel_id, []).append(row)
    made = 0
    for channel_id, channel_rows in by_channel.items():
        items = []
        for incident_id in dict.fromkeys(r.incident_id for r in channel_rows):
            incident = session.get(Incident, incident_id) if incident_id else None
            if incident is not None and incident.visibility == "public" and incident.alertable:
                items.append(message(session, "alert", incident, sub, settings))
        for row in channel_rows:
            row.status = "digested" if items else "withdrawn"
        if not items:
            continue
        session.add(
            Delivery(
                subscription_id=sub.id,
                channel_id=channel_id,
                incident_id=None,
                kind="digest",
                revision=str(max(r.id for r in channel_rows)),
                status="queued",
                body={
                    "type": "digest",
                    "subscription": {
                        "id": sub.id,
                        "name": sub.name,
                        "language": sub.language or "en",
                    },
                    "items": items,
                },
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        made += 1
    return made
