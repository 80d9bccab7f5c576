"""The one writer of incidents, whatever their origin: dispatch records, agency updates,
resident posts, footage requests (and the test factories).

A caller says what differs by origin: who the incident belongs to (`Identity`), its content
already in public form (`PublicForm`: scrubbed text, block address, coarse point) and whether
the public may see it and be alerted (`Standing`, the privacy gate's `Decision`). The writer
does the rest the same way for everyone: the H3 cells of the point, the category's severity,
open or closed, the content hash, the topic of the change and its announcement through the
outbox (in the caller's transaction, so nothing rolled back is announced).

The content hash (`content_hash`) is one recipe for every origin. It covers what a reader
could tell apart: the category, the call type, the block address, the point (to 6 decimals,
about 0.1 m), the time, the clear time, the number of responding units and the call types
not mapped yet; then the title and summary when a person wrote them. A dispatch incident's
title is its call type and its summary counts its units, so they add nothing and are left
out: dispatch hashes stay byte for byte what ingestion stored before this module existed, and
a stored incident whose records come again unchanged is not announced again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from townsquare import geo, taxonomy
from townsquare.events import topics
from townsquare.events.outbox import announce as queue
from townsquare.incidents.models import Incident
from townsquare.privacy.gate import Decision

Standing = Decision
"""Whether the public sees the incident and whether it is alerted, each with its reasons."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an incident belongs to: its origin, and its id in that origin."""

    origin: str
    external_id: str | None
    source_id: int | None = None
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class PublicForm:
    """An incident's content, every value already public (scrubbed, cut to the block, coarse)."""

    category: str
    original_type: str
    title: str
    summary: str
    address_block: str | None
    point: geo.Point
    occurred_at: datetime
    closed_at: datetime | None = None
    severity: int | None = None
    """None: the category's default severity."""
    unit_count: int = 1
    unmapped: tuple[str, ...] = ()
    """The call type of each merged record whose type the source has not mapped yet."""
    text_from_fields: bool = False
    """True when title and summary are made from the fields above (a dispatch call)."""


def content_hash(form: PublicForm) -> str:
    """SHA-256 of the content a reader could tell apart (see the module docstring)."""
    parts = [
        form.category,
        form.original_type,
        form.address_block or "",
        f"{form.point.lat:.6f},{form.point.lon:.6f}",
        form.occurred_at.isoformat(),
        form.closed_at.isoformat() if form.closed_at else "",
        str(form.unit_count),
        ",".join(sorted(form.unmapped)),
    ]
    if not form.text_from_fields:
        parts += [form.title, form.summary]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def form_of(incident: Incident) -> PublicForm:
    """The public form an incident holds now (to change a few fields of it)."""
    return PublicForm(
        category=incident.category,
        original_type=incident.original_type,
        title=incident.title,
        summary=incident.summary,
        address_block=incident.address_block,
        point=geo.Point(incident.lat, incident.lon),
        occurred_at=incident.occurred_at,
        closed_at=incident.closed_at,
        severity=incident.severity,
        unit_count=incident.unit_count,
    )


def standing_of(incident: Incident) -> Standing:
    """The visibility and alerting an incident holds now."""
    return Standing(
        incident.visibility,
        tuple(incident.visibility_reasons),
        incident.alertable,
        tuple(incident.alertable_reasons),
    )


def unchanged(incident: Incident, form: PublicForm) -> bool:
    """True if the incident already holds exactly this content."""
    return incident.content_hash == content_hash(form)


def open_incident(session: Session, identity: Identity) -> Incident:
    """A new incident in the session, to be given its form with `write` before it is flushed.

    For ingestion, where records of one batch join an incident before its form is known.
    """
    incident = Incident(
        origin=identity.origin,
        source_id=identity.source_id,
        external_id=identity.external_id,
        agency_id=identity.agency_id,
        status="active",
        unit_count=1,
        content_hash="",
    )
    session.add(incident)
    return incident


def write(
    incident: Incident,
    form: PublicForm,
    standing: Standing,
    *,
    now: datetime,
    published_at: datetime | None = None,
) -> None:
    """Give the incident this form and standing; `published_at` when it (re-)enters the feed."""
    _write_form(incident, form)
    _write_standing(incident, standing)
    incident.updated_at = now
    if published_at is not None:
        incident.published_at = published_at


def _write_form(incident: Incident, form: PublicForm) -> None:
    cells = geo.cells_of(form.point)
    incident.category = form.category
    incident.original_type = form.original_type
    incident.title = form.title
    incident.summary = form.summary
    incident.address_block = form.address_block
    incident.lat, incident.lon = form.point.lat, form.point.lon
    incident.h3_r5, incident.h3_r7, incident.h3_r9 = cells[5], cells[7], cells[9]
    incident.occurred_at = form.occurred_at
    incident.status = "closed" if form.closed_at else "active"
    incident.closed_at = form.closed_at
    default = taxonomy.get(form.category).severity
    incident.severity = default if form.severity is None else form.severity
    incident.unit_count = form.unit_count
    incident.content_hash = content_hash(form)


def _write_standing(incident: Incident, standing: Standing) -> None:
    incident.visibility = standing.visibility
    incident.visibility_reasons = list(standing.visibility_reasons)
    incident.alertable = standing.alertable
    incident.alertable_reasons = list(standing.alertable_reasons)


def create(
    session: Session,
    identity: Identity,
    form: PublicForm,
    standing: Standing,
    *,
    now: datetime,
) -> Incident:
    """Store a new incident, published `now`; announced if the public may see it."""
    incident = open_incident(session, identity)
    write(incident, form, standing, now=now, published_at=now)
    session.flush()
    announce(session, incident, change_topic(incident, was_public=False, newly_closed=False))
    return incident


def revise(
    session: Session, incident: Incident, form: PublicForm, standing: Standing, *, now: datetime
) -> None:
    """Replace an incident's form and standing; announce what the change means to a reader."""
    was_public, was_closed = incident.visibility == "public", incident.status == "closed"
    write(incident, form, standing, now=now)
    newly_closed = incident.status == "closed" and not was_closed
    announce(
        session, incident, change_topic(incident, was_public=was_public, newly_closed=newly_closed)
    )


def close(session: Session, incident: Incident, *, at: datetime, now: datetime) -> None:
    """Close an open incident as of `at`; a public one is announced closed."""
    if incident.status == "closed":
        return
    incident.status, incident.closed_at, incident.updated_at = "closed", at, now
    public = incident.visibility == "public"
    announce(session, incident, change_topic(incident, was_public=public, newly_closed=True))


def remove(
    session: Session,
    incident: Incident,
    reason: str,
    *,
    now: datetime,
    keep_alertable: bool = False,
) -> None:
    """Take an incident out of the feed for `reason`; announced if it was in it.

    It stops being alertable unless `keep_alertable` (so a curator who publishes it again
    brings its alerts back).
    """
    was_public = incident.visibility == "public"
    incident.visibility = "removed"
    incident.visibility_reasons = [reason]
    if not keep_alertable:
        incident.alertable = False
    incident.updated_at = now
    announce(session, incident, change_topic(incident, was_public=was_public, newly_closed=False))


def change_topic(incident: Incident, *, was_public: bool, newly_closed: bool) -> str | None:
    """The topic that tells readers what a change meant; None if they never saw it."""
    if incident.visibility != "public":
        return topics.INCIDENT_REMOVED if was_public else None
    if not was_public:
        return topics.INCIDENT_PUBLISHED
    return topics.INCIDENT_CLOSED if newly_closed else topics.INCIDENT_UPDATED


def announce(session: Session, incident: Incident, topic: str | None) -> None:
    """Queue `topic` about a flushed incident in the caller's transaction (None: nothing)."""
    if topic is not None:
        queue(session, topic, {"id": incident.id})
