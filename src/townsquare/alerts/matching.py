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
from townsquare.events import topics
from townsquare.formats.geojson import feature
from townsquare.incidents.models import Incident
from townsquare.incidents.service import publish_all
from townsquare.settings import Settings

log = logging.getLogger(__name__)
ALWAYS_AT_ONCE = 5
"""Severity that goes out at once whatever the quiet hours, rate limit or digest choice."""
CURATED = "alerted by curation:"
"""How a curator's "send as an alert" marks an incident (`alertable_reasons`).

A curated alert goes at once to every area that asked for its category, whatever the area's
severity choices (minimum, and "at once from") and hourly limit: the curator decided it is
worth it now. It keeps to the area's category choice, and waits out the area's quiet hours
(then it goes in the digest sent when they end), unless its severity is extreme."""
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


def curated(incident: Incident) -> bool:
    """True if a curator sent this incident as an alert."""
    return incident.alertable and any(r.startswith(CURATED) for r in incident.alertable_reasons)


def wants_category(sub: Subscription, incident: Incident) -> bool:
    """True if the subscription asked for the incident's category (none named: every one)."""
    return not sub.categories or any(taxonomy.matches(incident.category, c) for c in sub.categories)


def wants(sub: Subscription, incident: Incident) -> bool:
    """True if the subscription's categories and minimum severity take this incident."""
    if incident.severity < sub.min_severity and not curated(incident):
        return False
    return wants_category(sub, incident)


def message(
    session: Session,
    kind: str,
    incident: Incident,
    sub: Subscription,
    settings: Settings,
    shown: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of an alert or update: public fields only, through the public type.

    `shown` is the incident's public GeoJSON feature when the caller already has it (one
    per incident, whatever the number of subscribers).
    """
    site = settings.site_url()
    return {
        "type": kind,
        "subscription": {"id": sub.id, "name": sub.name, "language": sub.language or "en"},
        "incident": shown if shown is not None else feature(publish_all(session, [incident])[0]),
        "url": f"{site}/incidents/{incident.id}",
        "cap": f"{site}/feeds/cap/{incident.id}.xml",
        "revision": revision(incident),
    }


def cancel_message(incident_id: int, sub: Subscription, settings: Settings) -> dict[str, Any]:
    """The body of a cancellation: the id only, the incident is no longer public."""
    return {
        "type": "cancel",
        "subscription": {"id": sub.id, "name": sub.name, "language": sub.language or "en"},
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
    ids = list(dict.fromkeys(int(p["id"]) for t, p in events if topics.about_incident(t)))
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
                with session.no_autoflush:
                    added = _decide(session, index, lock, incident_ids, settings=settings, now=now)
                session.flush()  # a duplicate from a concurrent consumer fails here: retry
                return added
        except IntegrityError:
            # Another node handled a re-delivery of this event at the same moment: re-read.
            if attempt == CONFLICT_RETRIES - 1:
                raise
    return 0


def _priors(session: Session, incident_ids: list[int]) -> dict[int, dict[int, Prior]]:
    """incident id -> subscription id -> what that subscription already got about it."""
    found: dict[int, dict[int, Prior]] = {}
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.incident_id,
            Delivery.subscription_id,
            Delivery.kind,
            Delivery.status,
            Delivery.body,
        )
        .where(Delivery.incident_id.in_(incident_ids))
        .order_by(Delivery.id)
    )
    for row_id, incident_id, sub_id, kind, status, body in rows:
        prior = found.setdefault(incident_id, {}).setdefault(sub_id, Prior())
        if kind == "alert":
            prior.alert_status = status
        if kind in ("alert", "update"):
            prior.revision = str(body.get("revision", ""))
        if kind == "cancel":
            prior.cancelled = True
        if status == "held":
            prior.held_ids.append(row_id)
    return found


@dataclass
class _Batch:
    """What the incidents of one batch share: read once, not once per incident."""

    subs: dict[int, Subscription]
    channels: dict[int, list[int]]
    recent: Counter[int]
    """Immediate alerts per subscription in the last hour, this batch's own included."""


def _decide(
    session: Session,
    index: GeofenceIndex,
    lock: threading.RLock,
    incident_ids: list[int],
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """The deliveries of a batch of incidents, added to the session unflushed."""
    incidents = {
        i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(incident_ids)))
    }
    priors = _priors(session, incident_ids)
    matched: dict[int, set[int]] = {}
    with lock:
        for incident_id in incident_ids:
            incident = incidents.get(incident_id)
            if incident is not None and incident.visibility == "public" and incident.alertable:
                matched[incident_id] = set(index.match(incident.lat, incident.lon))
    all_matched = set().union(*matched.values())
    wanted = all_matched.union(*(set(p) for p in priors.values()))
    subs = (
        {s.id: s for s in session.scalars(select(Subscription).where(Subscription.id.in_(wanted)))}
        if wanted
        else {}
    )
    batch = _Batch(
        subs, _channels(session, subs), Counter(_recent_alerts(session, all_matched, now))
    )
    added = 0
    for incident_id in incident_ids:
        before = priors.get(incident_id, {})
        if incident_id in matched:
            incident = incidents[incident_id]
            added += _decide_one(
                session, incident, matched[incident_id], before, batch, settings=settings, now=now
            )
        else:
            added += _cancel(session, incident_id, before, batch, settings=settings, now=now)
    return added


def _decide_one(
    session: Session,
    incident: Incident,
    matched: set[int],
    priors: dict[int, Prior],
    batch: _Batch,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    wanted_ids = matched | set(priors)
    if not wanted_ids:
        return 0
    shown: dict[str, Any] | None = None
    added = 0
    current = revision(incident)
    for sub_id in sorted(wanted_ids):
        sub = batch.subs.get(sub_id)
        if sub is None:
            continue
        prior = priors.get(sub_id)
        kind, rev, status = "", "", ""
        if prior is not None and prior.alert_status == "held" and curated(incident):
            added += _release(session, incident, sub, prior, settings=settings, now=now)
            continue
        if prior is None or prior.alert_status is None:
            if sub_id in matched and wants(sub, incident):
                kind, status = "alert", _mode(sub, incident, now, batch.recent[sub_id], settings)
        elif not prior.cancelled and prior.revision != current:
            if prior.alert_status == "held":
                continue  # the digest will show the incident as it is then
            kind, rev = "update", current
            status = "held" if prior.alert_status == "digested" else "queued"
        if not kind:
            continue
        if shown is None:
            shown = feature(publish_all(session, [incident])[0])
        body = message(session, kind, incident, sub, settings, shown)
        count = _add(session, sub, batch.channels, incident.id, kind, rev, status, body, now)
        if kind == "alert" and status in SENT_LIKE and count:
            batch.recent[sub_id] += 1
        added += count
    return added


def _cancel(
    session: Session,
    incident_id: int,
    priors: dict[int, Prior],
    batch: _Batch,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    added = 0
    for sub_id, prior in priors.items():
        sub = batch.subs.get(sub_id)
        if sub is None or prior.cancelled or prior.alert_status is None:
            continue
        for row_id in prior.held_ids:
            session.get_one(Delivery, row_id).status = "withdrawn"
        if prior.alert_status in SENT_LIKE or prior.alert_status == "digested":
            body = cancel_message(incident_id, sub, settings)
            added += _add(
                session, sub, batch.channels, incident_id, "cancel", "", "queued", body, now
            )
    return added


def _channels(session: Session, subs: dict[int, Subscription]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if not subs:
        return found
    for channel_id, sub_id in session.execute(
        select(Channel.id, Channel.subscription_id).where(
            Channel.subscription_id.in_(subs),
            Channel.active.is_(True),
            Channel.confirmed_at.is_not(None),  # an unconfirmed address gets nothing
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


def _release(
    session: Session,
    incident: Incident,
    sub: Subscription,
    prior: Prior,
    *,
    settings: Settings,
    now: datetime,
) -> int:
    """A curated incident's alerts waiting for the digest go now (not in quiet hours)."""
    if in_quiet_hours(sub, now) and incident.severity < ALWAYS_AT_ONCE:
        return 0
    released = 0
    for row_id in prior.held_ids:
        row = session.get_one(Delivery, row_id)
        if row.kind != "alert":
            continue
        row.body = message(session, "alert", incident, sub, settings)
        row.status, row.next_attempt_at = "queued", now
        released += 1
    return released


def _mode(
    sub: Subscription, incident: Incident, now: datetime, recent: int, settings: Settings
) -> str:
    if incident.severity >= ALWAYS_AT_ONCE:
        return "queued"
    if curated(incident):
        return "held" if in_quiet_hours(sub, now) else "queued"
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
