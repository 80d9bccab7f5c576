"""The matching consumer: one bus event about an incident -> the deliveries it calls for.

At-least-once in, exactly-once out: the deliveries of an incident are unique per channel,
kind and revision, and the consumer reads what was already decided before deciding more,
so a re-delivered or concurrently handled event adds nothing. An alert goes once per
subscriber; a later change of what the alert said goes as an update to those who got it;
a withdrawn or removed incident sends a cancellation to them (or quietly withdraws an
alert still waiting for the digest).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from townsquare import taxonomy
from townsquare.alerts.index import GeofenceIndex
from townsquare.alerts.models import Channel, Delivery, Subscription
from townsquare.db import transaction
from townsquare.formats.geojson import feature
from townsquare.incidents.models import Incident
from townsquare.incidents.service import publish_all
from townsquare.settings import Settings

log = logging.getLogger(__name__)
ALWAYS_AT_ONCE = 5
"""Severity that goes out at once whatever the quiet hours, rate limit or digest choice."""
SENT_LIKE = ("queued", "retrying", "sent", "dead")
CONFLICT_RETRIES = 3


@dataclass
class Prior:
    """What one subscription already got about one incident."""

    alert_status: str | None = None
    revision: str = ""
    cancelled: bool = False
    held_ids: list[int] = field(default_factory=list)


def revision(incident: Incident) -> str:
    """Digest of what an alert says; a change in it is worth an update, unit counts are not."""
    text = "|".join(
        str(v)
        for v in (
            incident.category,
            incident.title,
            incident.address_block,
            incident.status,
            incident.severity,
            incident.lat,
            incident.lon,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def in_quiet_hours(sub: Subscription, now: datetime) -> bool:
    """True if `now` falls in the subscription's local quiet hours."""
    if not sub.quiet_start or not sub.quiet_end:
        return False
    local = now.astimezone(ZoneInfo(sub.time_zone)).time()
    start, end = time.fromisoformat(sub.quiet_start), time.fromisoformat(sub.quiet_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def wants(sub: Subscription, incident: Incident) -> bool:
    """True if the subscription's categories and minimum severity take this incident."""
    if incident.severity < sub.min_severity:
        return False
    return not sub.categories or any(taxonomy.matches(incident.category, c) for c in sub.categories)


def message(
    session: Session, kind: str, incident: Incident, sub: Subscription, settings: Settings
) -> dict[str, Any]:
    """The body of an alert or update: public fields only, through the public type."""
    site = settings.site_url()
    return {
        "type": kind,
        "subscription": {"id": sub.id, "name": sub.name},
        "incident": feature(publish_all(session, [incident])[0]),
        "url": f"{site}/incidents/{incident.id}",
        "cap": f"{site}/feeds/cap/{incident.id}.xml",
        "revision": revision(incident),
    }


def cancel_message(incident_id: int, sub: Subscription, settings: Settings) -> dict[str, Any]:
    """The body of a cancellation: the id only, the incident is no longer public."""
    return {
        "type": "cancel",
        "subscription": {"id": sub.id, "name": sub.name},
        "incident": {"id": incident_id},
        "reason": "The alert was withdrawn; the incident is no longer in the public feed.",
        "url": f"{settings.site_url()}/incidents/{incident_id}",
    }


def handle_incident_event(
    factory: sessionmaker[Session],
    index: GeofenceIndex,
    lock: threading.RLock,
    topic: str,
    payload: dict[str, Any],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """Decide and store the deliveries for one incident event; returns how many were added."""
    return handle_incident_events(
        factory, index, lock, [(topic, payload)], settings=settings, now=now
    )


def handle_incident_events(
    factory: sessionmaker[Session],
    index: GeofenceIndex,
    lock: threading.RLock,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """Decide the deliveries of a batch of events in one transaction; returns how many.

    Each incident is decided once per batch, from what it is now (as a second event about
    it would have been). If the batch fails, its incidents are decided one by one, so one
    bad incident does not hold the others back; the failure is raised after (redelivery).
    """
    ids = list(dict.fromkeys(int(p["id"]) for t, p in events if t.startswith("incident.")))
    if not ids:
        return 0
    try:
        return _decide_all(factory, index, lock, ids, settings=settings, now=now)
    except Exception:
        if len(ids) == 1:
            raise
        log.exception("deciding a batch failed; deciding its incidents one by one")
    added, failure = 0, None
    for incident_id in ids:
        try:
            added += _decide_all(factory, index, lock, [incident_id], settings=settings, now=now)
        except Exception as exc:
            log.exception("deciding an incident failed", extra={"incident": incident_id})
            failure = exc
    if failure is not None:
        raise failure
    return added


def _decide_all(
    factory: sessionmaker[Session],
    index: GeofenceIndex,
    lock: threading.RLock,
    incident_ids: list[int],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    for attempt in range(CONFLICT_RETRIES):
        try:
            with transaction(factory) as session:
                # Decide everything first, write it all at the end: on SQLite the write lock
                # is taken at the first write and held to the commit, so writing as we went
                # would lock ingestion out for the whole batch.
                alerted: Counter[int] = Counter()
                with session.no_autoflush:
                    added = sum(
                        _decide(session, index, lock, i, alerted, settings=settings, now=now)
                        for i in incident_ids
                    )
                session.flush()  # a duplicate from a concurrent consumer fails here: retry
                return added
        except IntegrityError:
            # Another node handled a re-delivery of this event at the same moment: re-read.
            if attempt == CONFLICT_RETRIES - 1:
                raise
    return 0


def _priors(session: Session, incident_id: int) -> dict[int, Prior]:
    found: dict[int, Prior] = {}
    rows = session.execute(
        select(Delivery.id, Delivery.subscription_id, Delivery.kind, Delivery.status, Delivery.body)
        .where(Delivery.incident_id == incident_id)
        .order_by(Delivery.id)
    )
    for row_id, sub_id, kind, status, body in rows:
        prior = found.setdefault(sub_id, Prior())
        if kind == "alert":
            prior.alert_status = status
        if kind in ("alert", "update"):
            prior.revision = str(body.get("revision", ""))
        if kind == "cancel":
            prior.cancelled = True
        if status == "held":
            prior.held_ids.append(row_id)
    return found


def _decide(
    session: Session,
    index: GeofenceIndex,
    lock: threading.RLock,
    incident_id: int,
    alerted: Counter[int],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """One incident's deliveries, added to the session unflushed; `alerted` counts, per
    subscription, the alerts this batch queued so far (not yet visible to queries)."""
    incident = session.get(Incident, incident_id)
    priors = _priors(session, incident_id)
    live = incident is not None and incident.visibility == "public" and incident.alertable
    if not live:
        return _cancel(session, incident_id, priors, settings=settings, now=now)
    assert incident is not None
    with lock:
        matched = set(index.match(incident.lat, incident.lon))
    wanted_ids = matched | set(priors)
    if not wanted_ids:
        return 0
    subs = {
        s.id: s
        for s in session.scalars(select(Subscription).where(Subscription.id.in_(wanted_ids)))
    }
    channels = _channels(session, subs)
    recent = _recent_alerts(session, matched, now)
    added = 0
    current = revision(incident)
    for sub_id in sorted(wanted_ids):
        sub = subs.get(sub_id)
        if sub is None:
            continue
        prior = priors.get(sub_id)
        if prior is None or prior.alert_status is None:
            if sub_id in matched and wants(sub, incident):
                sent = recent.get(sub_id, 0) + alerted[sub_id]
                status = _mode(sub, incident, now, sent, settings)
                body = message(session, "alert", incident, sub, settings)
                added += _add(session, sub, channels, incident_id, "alert", "", status, body, now)
                if status in SENT_LIKE and channels.get(sub_id):
                    alerted[sub_id] += 1
        elif not prior.cancelled and prior.revision != current:
            status = "held" if prior.alert_status in ("held", "digested") else "queued"
            if prior.alert_status == "held":
                continue  # the digest will show the incident as it is then
            body = message(session, "update", incident, sub, settings)
            added += _add(session, sub, channels, incident_id, "update", current, status, body, now)
    return added


def _cancel(
    session: Session,
    incident_id: int,
    priors: dict[int, Prior],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    added = 0
    subs = {
        s.id: s for s in session.scalars(select(Subscription).where(Subscription.id.in_(priors)))
    }
    channels = _channels(session, subs)
    for sub_id, prior in priors.items():
        sub = subs.get(sub_id)
        if sub is None or prior.cancelled or prior.alert_status is None:
            continue
        for row_id in prior.held_ids:
            session.get_one(Delivery, row_id).status = "withdrawn"
        if prior.alert_status in SENT_LIKE or prior.alert_status == "digested":
            body = cancel_message(incident_id, sub, settings)
            added += _add(session, sub, channels, incident_id, "cancel", "", "queued", body, now)
    return added


def _channels(session: Session, subs: dict[int, Subscription]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if not subs:
        return found
    for channel_id, sub_id in session.execute(
        select(Channel.id, Channel.subscription_id).where(
            Channel.subscription_id.in_(subs), Channel.active.is_(True)
        )
    ):
        found.setdefault(sub_id, []).append(channel_id)
    return found


def _recent_alerts(session: Session, sub_ids: Iterable[int], now: datetime) -> dict[int, int]:
    ids = list(sub_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Delivery.subscription_id, func.count(func.distinct(Delivery.incident_id)))
        .where(
            Delivery.subscription_id.in_(ids),
            Delivery.kind == "alert",
            Delivery.status.in_(SENT_LIKE),
            Delivery.created_at >= now - timedelta(hours=1),
        )
        .group_by(Delivery.subscription_id)
    )
    return {sub_id: int(n) for sub_id, n in rows}


def _mode(
    sub: Subscription, incident: Incident, now: datetime, recent: int, settings: Settings
) -> str:
    if incident.severity >= ALWAYS_AT_ONCE:
        return "queued"
    if incident.severity < sub.urgent_severity or in_quiet_hours(sub, now):
        return "held"
    return "held" if recent >= settings.alert_rate_per_hour else "queued"


def _add(
    session: Session,
    sub: Subscription,
    channels: dict[int, list[int]],
    incident_id: int,
    kind: str,
    rev: str,
    status: str,
    body: dict[str, Any],
    now: datetime,
) -> int:
    ids = channels.get(sub.id, [])
    for channel_id in ids:
        session.add(
            Delivery(
                subscription_id=sub.id,
                channel_id=channel_id,
                incident_id=incident_id,
                kind=kind,
                revision=rev,
                status=status,
                body=body,
                attempts=0,
                next_attempt_at=now if status == "queued" else None,
                created_at=now,
            )
        )
    return len(ids)
