"""The incident lifecycle: source records (versions of calls and units) -> incidents.

Each record of a source is kept as a `SourceRecord` holding the public form of its newest
version. An incident is a function of its source records alone (`combine`), so the order in
which versions, duplicates and snapshots arrive never changes the end state:

- a version replaces the stored one only if it is newer: (version time, content hash) is
  greater; the hash breaks ties between versions of the same time deterministically;
- a record's call time is the earliest any of its versions gave;
- in an "active calls" source, a record is closed at the first complete snapshot after the
  last one that held it, so applying snapshots in any order gives the same clear times;
- records of one call (several units) or one scene (several agencies) share an incident:
  the most severe record names it, the earliest time dates it, and it is closed only when
  every record is.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from townsquare import geo, taxonomy
from townsquare.events import outbox, topics
from townsquare.incidents import publish
from townsquare.incidents.models import Incident
from townsquare.ingest import bulk
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import Source, SourceRecord, SourceSnapshot
from townsquare.ingest.policy import policy_for, policy_of
from townsquare.privacy import engine as privacy
from townsquare.privacy.policy import Policy, default_policy

UNMAPPED_REASON = "not alerted: call type {!r} is not mapped yet"


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a source record in its public form (already redacted)."""

    key: str
    external_id: str
    unit: str | None
    scene: str | None
    category: str
    mapped: bool
    original_type: str
    address_block: str | None
    point: geo.Point
    occurred_at: datetime
    version_at: datetime
    cleared_at: datetime | None
    seen_at: datetime
    severity: int | None = None
    """The record's own severity (a CAP alert's), else None: the category's."""
    expires_at: datetime | None = None
    """When the record stops being current (CAP expires): closed then by `close_expired`."""
    summary: str | None = None
    """The record's own public text (a CAP alert's headline and description), else None."""
    precision: str = "coordinates"
    """How the point is known (coordinates given, geocoded precision, or a declared area)."""

    @property
    def digest(self) -> str:
        """SHA-256 of the content (not of when it was received)."""
        parts = [
            self.category,
            str(self.mapped),
            self.original_type,
            self.address_block or "",
            f"{self.point.lat:.6f},{self.point.lon:.6f}",
            self.occurred_at.isoformat(),
            self.cleared_at.isoformat() if self.cleared_at else "",
        ]
        if self.severity is not None or self.expires_at is not None:  # older hashes unchanged
            parts += [str(self.severity), self.expires_at.isoformat() if self.expires_at else ""]
        if self.summary is not None:
            parts.append(self.summary)
        if self.precision != "coordinates":  # digests of sources with coordinates unchanged
            parts.append(self.precision)
        return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@dataclass
class Outcome:
    """What applying a batch did: per version its incident and change, and the counts."""

    incidents: list[Incident] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    closed: int = 0
    withheld: int = 0


@dataclass
class _State:
    """The rows one batch touches, loaded with a few queries."""

    links: dict[str, SourceRecord]
    by_external: dict[str, Incident]
    by_scene: dict[str, list[SourceRecord]]
    members: dict[int, list[SourceRecord]]
    incidents: dict[int, Incident]
    topics: dict[int, tuple[Incident, str]] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    agency: str = ""
    fresh_incidents: list[Incident] = field(default_factory=list)
    """Incidents opened by this batch, kept out of the session until `_store` inserts them."""
    fresh_links: list[SourceRecord] = field(default_factory=list)
    """Source records first seen in this batch, likewise."""


def apply_versions(
    session: Session,
    source: Source,
    config: SourceConfig,
    versions: Sequence[Version],
    *,
    now: datetime,
    replay: bool = False,
    next_snapshot: datetime | None = None,
    snapshot_at: datetime | None = None,
    force: bool = False,
) -> Outcome:
    """Merge `versions` into the source's records and incidents; announces what changed.

    `force` (a reprocess): a version with other content replaces the stored one whatever
    their order, keeping the record's open/closed state in a snapshot source.
    """
    state = _load(session, source, versions)
    state.agency = config.agency.name
    outcome = Outcome()
    touched: dict[int, Incident] = {}
    rules = policy_for(config)
    with session.no_autoflush:  # new incidents are complete only after _refresh
        for version in versions:
            link = state.links.get(version.key)
            if link is None:
                link, incident, change = _attach(state, source, config, version)
            else:
                incident = link.incident
                change = _update(link, version, replay=replay, force=force)
            if snapshot_at is not None:
                _mark_seen(link, version, snapshot_at, next_snapshot)
            if change != "unchanged" or snapshot_at is not None:
                touched[id(incident)] = incident
            outcome.incidents.append(incident)
            outcome.changes.append(change)
        for incident in touched.values():
            _refresh(state, incident, rules, now=now, replay=replay, outcome=outcome)
    _store(session, state, source.id)
    return outcome


def close_missing(
    session: Session, source: Source, config: SourceConfig, *, taken_at: datetime, records: int
) -> Outcome:
    """Record a complete snapshot; close every record last seen before it and not yet closed."""
    exists = session.scalar(
        select(SourceSnapshot.id).where(
            SourceSnapshot.source_id == source.id, SourceSnapshot.taken_at == taken_at
        )
    )
    if exists is None:
        session.add(SourceSnapshot(source_id=source.id, taken_at=taken_at, records=records))
    missing = session.scalars(
        select(SourceRecord).where(
            SourceRecord.source_id == source.id,
            SourceRecord.seen_at < taken_at,
            or_(SourceRecord.closed_at.is_(None), SourceRecord.closed_at > taken_at),
        )
    ).all()
    for link in missing:
        link.closed_at = taken_at
    incidents = {link.incident_id for link in missing}
    state = _members_of(session, incidents)
    state.agency = config.agency.name
    outcome = Outcome()
    rules = policy_for(config)
    for incident in state.incidents.values():
        _refresh(state, incident, rules, now=taken_at, replay=False, outcome=outcome)
    _announce(session, state)
    return outcome


def close_referenced(
    session: Session,
    source: Source,
    config: SourceConfig,
    external_ids: Sequence[str],
    *,
    at: datetime,
    now: datetime,
) -> Outcome:
    """Close the source's records of these ids at `at` (a CAP Cancel's time) unless closed
    before it; the outcome lists the incidents of every record found, closed or not."""
    found = session.scalars(
        select(SourceRecord).where(
            SourceRecord.source_id == source.id, SourceRecord.external_id.in_(external_ids)
        )
    ).all()
    for link in found:
        if link.closed_at is None or link.closed_at > at:
            link.closed_at = max(at, link.occurred_at)
    state = _members_of(session, {link.incident_id for link in found})
    state.agency = config.agency.name
    outcome = Outcome(incidents=list(state.incidents.values()))
    rules = policy_for(config)
    for incident in state.incidents.values():
        _refresh(state, incident, rules, now=now, replay=False, outcome=outcome)
    _announce(session, state)
    return outcome


def close_expired(session: Session, *, now: datetime) -> int:
    """Close every open record whose `expires_at` has passed, at that time; how many closed."""
    expired = session.scalars(
        select(SourceRecord).where(
            SourceRecord.closed_at.is_(None),
            SourceRecord.expires_at.is_not(None),
            SourceRecord.expires_at <= now,
        )
    ).all()
    for link in expired:
        link.closed_at = link.expires_at
    state = _members_of(session, {link.incident_id for link in expired})
    sources = {s.id: s for s in session.scalars(select(Source))}
    outcome = Outcome()
    for incident in state.incidents.values():
        source = sources.get(incident.source_id or -1)
        rules = policy_of(source).policy if source else default_policy()
        state.agency = str((source.config.get("agency") or {}).get("name", "")) if source else ""
        _refresh(state, incident, rules, now=now, replay=False, outcome=outcome)
    _announce(session, state)
    return len(expired)


def next_snapshot_after(session: Session, source: Source, moment: datetime) -> datetime | None:
    """The earliest complete snapshot of the source taken after `moment`, if any."""
    found: datetime | None = session.scalar(
        select(func.min(SourceSnapshot.taken_at)).where(
            SourceSnapshot.source_id == source.id, SourceSnapshot.taken_at > moment
        )
    )
    return found


# --- loading -------------------------------------------------------------------------------


def _load(session: Session, source: Source, versions: Sequence[Version]) -> _State:
    keys = {v.key for v in versions}
    links = {
        link.record_key: link
        for link in session.scalars(
            select(SourceRecord).where(
                SourceRecord.source_id == source.id, SourceRecord.record_key.in_(keys)
            )
        )
    }
    fresh = [v for v in versions if v.key not in links]
    external = {v.external_id for v in fresh}
    scenes = {v.scene for v in fresh if v.scene is not None}
    by_scene: dict[str, list[SourceRecord]] = defaultdict(list)
    siblings: list[SourceRecord] = []
    if scenes or external:
        siblings = list(
            session.scalars(
                select(SourceRecord).where(
                    SourceRecord.source_id == source.id,
                    or_(SourceRecord.scene.in_(scenes), SourceRecord.external_id.in_(external)),
                )
            )
        )
    for link in siblings:
        if link.scene is not None:
            by_scene[link.scene].append(link)
    incident_ids = {link.incident_id for link in [*links.values(), *siblings]}
    legacy: list[Incident] = []
    if external:
        # Incidents stored before source records existed are found by their external id.
        legacy = list(
            session.scalars(
                select(Incident).where(
                    Incident.source_id == source.id, Incident.external_id.in_(external)
                )
            )
        )
        incident_ids.update(incident.id for incident in legacy)
    state = _members_of(session, incident_ids)
    state.links, state.by_scene = links, by_scene
    state.by_external = {incident.external_id or "": incident for incident in legacy}
    for link in siblings:
        state.by_external.setdefault(link.external_id, link.incident)
    return state


def _members_of(session: Session, incident_ids: set[int]) -> _State:
    """The incidents and all their source records (incidents first: links resolve to them)."""
    incidents: dict[int, Incident] = {}
    members: dict[int, list[SourceRecord]] = defaultdict(list)
    if incident_ids:
        incidents = {
            i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(incident_ids)))
        }
        for link in session.scalars(
            select(SourceRecord).where(SourceRecord.incident_id.in_(incident_ids))
        ):
            members[id(incidents[link.incident_id])].append(link)
    return _State({}, {}, {}, members, incidents)


# --- one version ---------------------------------------------------------------------------


def _attach(
    state: _State, source: Source, config: SourceConfig, version: Version
) -> tuple[SourceRecord, Incident, str]:
    """A record seen for the first time: join its call or scene, or open a new incident."""
    incident = state.by_external.get(version.external_id) or _scene_incident(
        state, version, timedelta(minutes=config.lifecycle.scene_minutes)
    )
    change = "merged"
    if incident is None:
        incident = bulk.fresh(  # as publish.open_incident, outside the session (ingest.bulk)
            Incident,
            {
                "origin": "dispatch",
                "source_id": source.id,
                "external_id": version.external_id,
                "agency_id": source.agency_id,
                "status": "active",
                "unit_count": 1,
                "content_hash": "",
            },
        )
        state.fresh_incidents.append(incident)
        state.by_external[version.external_id] = incident
        state.created.add(id(incident))
        change = "created"
    link = bulk.fresh(
        SourceRecord,
        {
            "source_id": source.id,
            "record_key": version.key,
            "external_id": version.external_id,
            "unit": version.unit,
            "scene": version.scene,
            "incident": incident,
            "seen_at": version.seen_at,
            **_values(version, occurred_at=version.occurred_at),
        },
    )
    state.fresh_links.append(link)
    state.links[version.key] = link
    state.members[id(incident)].append(link)
    if version.scene is not None:
        state.by_scene[version.scene].append(link)
    return link, incident, change


def _scene_incident(state: _State, version: Version, window: timedelta) -> Incident | None:
    if version.scene is None:
        return None
    near = [
        link
        for link in state.by_scene.get(version.scene, [])
        if abs(link.occurred_at - version.occurred_at) <= window
    ]
    if not near:
        return None
    return min(near, key=lambda link: (link.occurred_at, link.record_key)).incident


def _update(link: SourceRecord, version: Version, *, replay: bool, force: bool = False) -> str:
    """Apply a version to a known record if it is newer; 'updated', 'unchanged' or 'stale'."""
    if version.seen_at > link.seen_at:
        link.seen_at = version.seen_at
    if force:
        if version.digest == link.version_hash:
            return "unchanged"
        closed_at = link.closed_at
        _copy(link, version, occurred_at=version.occurred_at)
        link.closed_at = version.cleared_at or closed_at
        return "updated"
    if version.digest == link.version_hash and not replay:
        if version.version_at > link.version_at:
            link.version_at = version.version_at
        return "unchanged"
    if not replay and (version.version_at, version.digest) < (link.version_at, link.version_hash):
        return "stale"
    # A replay re-times the record on purpose; otherwise the call started at its earliest time.
    earliest = version.occurred_at if replay else min(link.occurred_at, version.occurred_at)
    _copy(link, version, occurred_at=earliest)
    return "updated"


def _copy(link: SourceRecord, version: Version, *, occurred_at: datetime) -> None:
    for name, value in _values(version, occurred_at=occurred_at).items():
        setattr(link, name, value)


def _values(version: Version, *, occurred_at: datetime) -> dict[str, Any]:
    """The columns of a source record a version gives."""
    return {
        "version_at": version.version_at,
        "version_hash": version.digest,
        "category": version.category,
        "mapped": version.mapped,
        "original_type": version.original_type,
        "address_block": version.address_block,
        "lat": version.point.lat,
        "lon": version.point.lon,
        "precision": version.precision,
        "occurred_at": occurred_at,
        "closed_at": version.cleared_at,
        "severity": version.severity,
        "expires_at": version.expires_at,
        "summary": version.summary,
    }


def _mark_seen(
    link: SourceRecord, version: Version, taken_at: datetime, next_snapshot: datetime | None
) -> None:
    """In a snapshot: the record is open until the first complete snapshot after its last."""
    if link.seen_at == taken_at and version.cleared_at is None:
        link.closed_at = next_snapshot


# --- the incident --------------------------------------------------------------------------


def combine(links: Sequence[SourceRecord]) -> tuple[SourceRecord, datetime, datetime | None]:
    """The record that names the incident, its earliest time, and its clear time if closed.

    The naming record is a mapped one before an unmapped one, a non-sensitive one before a
    sensitive one (a police crash record names a scene an ambulance also went to), then the
    most severe, then the earliest: an order of the records, never of their arrival.
    """

    def rank(link: SourceRecord) -> tuple[bool, bool, int, datetime, str]:
        category = taxonomy.get(link.category)
        return (
            not link.mapped,
            category.sensitive,
            -category.severity,
            link.occurred_at,
            link.record_key,
        )

    primary = min(links, key=rank)
    occurred_at = min(link.occurred_at for link in links)
    cleared = [link.closed_at for link in links]
    closed_at = max(c for c in cleared if c) if all(cleared) else None
    return primary, occurred_at, closed_at


def _refresh(
    state: _State,
    incident: Incident,
    rules: Policy,
    *,
    now: datetime,
    replay: bool,
    outcome: Outcome,
) -> None:
    form = _public_form(state.agency, state.members[id(incident)])
    incident.location_precision = combine(state.members[id(incident)])[0].precision
    created = id(incident) in state.created
    if publish.unchanged(incident, form) and not replay:
        return
    was_public = not created and incident.visibility == "public"
    was_closed = not created and incident.status == "closed"
    standing = _standing(rules, form, now)
    entering = created or (standing.visibility == "public" and not was_public)
    published_at = (min(now, form.occurred_at) if replay else now) if entering else None
    publish.write(incident, form, standing, now=now, published_at=published_at)
    if created and incident.visibility == "withheld":
        outcome.withheld += 1
    if form.closed_at and not was_closed:
        outcome.closed += 1
    newly_closed = incident.status == "closed" and not was_closed
    topic = publish.change_topic(incident, was_public=was_public, newly_closed=newly_closed)
    if topic is not None:
        previous = state.topics.get(id(incident))
        if previous is None or previous[1] != topics.INCIDENT_PUBLISHED:
            state.topics[id(incident)] = (incident, topic)


def _public_form(agency: str, links: Sequence[SourceRecord]) -> publish.PublicForm:
    """The incident its records make: named by the primary record, one line of summary."""
    primary, occurred_at, closed_at = combine(links)
    return publish.PublicForm(
        category=primary.category,
        original_type=primary.original_type,
        title=primary.original_type,
        summary=primary.summary or _summary(agency, links),
        address_block=primary.address_block,
        point=geo.Point(primary.lat, primary.lon),
        occurred_at=occurred_at,
        closed_at=closed_at,
        severity=primary.severity,
        unit_count=len(links),
        unmapped=tuple(link.original_type for link in links if not link.mapped),
        text_from_fields=primary.summary is None,
    )


def _standing(rules: Policy, form: publish.PublicForm, now: datetime) -> publish.Standing:
    """The privacy gate's decision; a call type not mapped yet is never alerted."""
    category = taxonomy.get(form.category)
    severity = category.severity if form.severity is None else form.severity
    decision = privacy.decide(rules, category, form.original_type, form.occurred_at, now, severity)
    if not form.unmapped:
        return decision
    reasons = [UNMAPPED_REASON.format(t) for t in sorted(set(form.unmapped))]
    reasons += [r for r in decision.alertable_reasons if not r.startswith("alertable")]
    return replace(decision, alertable=False, alertable_reasons=tuple(reasons))


def _summary(agency: str, links: Sequence[SourceRecord]) -> str:
    """Counts units only where the source names them: a record without one claims none."""
    units = len({link.unit for link in links if link.unit})
    if not units:
        return f"Dispatched by {agency}."  # not "reported by": the scrub reads a person there
    noun = "unit" if units == 1 else "units"
    return f"{agency} dispatched {units} {noun}."


def _store(session: Session, state: _State, source_id: int) -> None:
    """Insert the batch's new incidents and records, then queue its events in one go."""
    bulk.insert_incidents(session, source_id, state.fresh_incidents)
    for link in state.fresh_links:
        link.incident_id = link.incident.id
    bulk.insert_rows(session, state.fresh_links)
    _announce(session, state)


def _announce(session: Session, state: _State) -> None:
    if not state.topics:
        return
    session.flush()
    outbox.announce_many(
        session, [(topic, {"id": incident.id}) for incident, topic in state.topics.values()]
    )
