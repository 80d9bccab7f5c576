"""The desk queue: items entering the feed with the gate's decision, provenance, nearby items.

A curator's decision is an audit entry (`desk.<action>` about `incident` N): the audit log
already holds who, what, why and when, hash-chained, so a second table would only repeat it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from townsquare import geo
from townsquare.accounts.schemas import Actor
from townsquare.agencies.models import Agency
from townsquare.audit import AuditEntry
from townsquare.desk.schemas import Corroboration, DeskDecision, DeskItem, Gate
from townsquare.errors import Forbidden, NotFound
from townsquare.feedback.models import Feedback
from townsquare.feedback.schemas import Marks
from townsquare.feedback.service import marks
from townsquare.incidents.models import Incident
from townsquare.incidents.nearby import nearby
from townsquare.incidents.schemas import CORROBORATED, PROVENANCE
from townsquare.ingest.models import Source
from townsquare.ingest.policy import policy_of
from townsquare.posts.models import Post
from townsquare.privacy.policy import Policy, default_policy
from townsquare.privacy.public import seal_text

ORIGINS = ("dispatch", "resident", "agency")
MERGED = "merged into"
VERDICTS = ("not alerted", "alertable", "withheld")
"""Words the gate starts its stored reasons with; the desk says the verdict once, before them."""


@dataclass(frozen=True, slots=True)
class Filters:
    """Which part of the queue a curator works: one source, and an area (a circle around a
    place, or a box drawn on the map). Empty fields filter nothing."""

    source: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    south: float | None = None
    west: float | None = None
    north: float | None = None
    east: float | None = None

    @property
    def circle(self) -> tuple[float, float, float] | None:
        """(lat, lon, radius_m) when the area is a circle around a point, else None."""
        if self.lat is None or self.lon is None or self.radius_m is None:
            return None
        return (self.lat, self.lon, self.radius_m)

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """(south, west, north, east) of the area: the box drawn, else the circle's bounding
        box; None for no area."""
        south, west, north, east = self.south, self.west, self.north, self.east
        if south is not None and west is not None and north is not None and east is not None:
            return (south, west, north, east)
        if self.circle is None:
            return None
        lat, lon, radius_m = self.circle
        dlat = radius_m / 111_320  # metres in a degree of latitude
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        return (lat - dlat, lon - dlon, lat + dlat, lon + dlon)

    @property
    def drawn(self) -> bool:
        """True when the area is a box drawn (it wins over a circle)."""
        return None not in (self.south, self.west, self.north, self.east)

    @property
    def active(self) -> bool:
        """True when any filter narrows the queue."""
        return bool(self.source) or self.box is not None

    def query(self) -> str:
        """The filters as a URL query ('' when none), for links and the refresh."""
        pairs = [(k, getattr(self, k)) for k in self.__slots__]
        return urlencode([(k, v) for k, v in pairs if v not in (None, "")])

    def keeps(self, row: Incident) -> bool:
        """True when the incident's public point lies in the area (the SQL took the box)."""
        if self.circle is None or self.drawn:
            return True
        lat, lon, radius_m = self.circle
        return geo.haversine_m(lat, lon, row.lat, row.lon) <= radius_m


def gate_line(verdict: str, reasons: Sequence[str]) -> str:
    """The gate's verdict said once, then its reasons: 'not alerted: 3 h old; severity 2 is
    below 3'. Stored reasons start with their own verdict ('not alerted: 3 h old'), so the
    verdict is taken off each one rather than said twice."""
    parts = []
    for reason in reasons:
        for word in (verdict, *VERDICTS):
            if reason.startswith(f"{word}: "):
                reason = reason[len(word) + 2 :]
                break
        parts.append(reason)
    if parts and parts[0].startswith(f"{verdict} "):
        return "; ".join(parts)  # 'alerted by curation: …' says its verdict in its own words
    return f"{verdict}: {'; '.join(parts)}" if parts else verdict


def moderator(actor: Actor) -> None:
    """Curators are the moderators (the curation team), signed in with two-factor."""
    if not actor.has("moderator"):
        raise Forbidden("moderators only (signed in with two-factor)")


def policy_for(session: Session, incident: Incident) -> Policy:
    """The policy the incident is published under: its source's, else the deployment's."""
    source = session.get(Source, incident.source_id) if incident.source_id else None
    return policy_of(source).policy if source is not None else default_policy()


def merged_reason(primary_id: int) -> str:
    """The visibility reason of a duplicate merged into `primary_id`."""
    return f"{MERGED} {primary_id}"


def _decisions(session: Session, ids: Sequence[int]) -> dict[int, list[DeskDecision]]:
    found: dict[int, list[DeskDecision]] = {}
    if not ids:
        return found
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "incident",
            AuditEntry.object_id.in_([str(i) for i in ids]),
            AuditEntry.action.startswith("desk."),
        )
        .order_by(AuditEntry.id)
    )
    for entry in rows:
        found.setdefault(int(entry.object_id), []).append(
            DeskDecision(
                action=entry.action.removeprefix("desk."),
                curator_id=entry.actor_id,
                reason=str(entry.detail.get("reason", "")),
                at=entry.at,
            )
        )
    return found


def linked(session: Session, primary_id: int) -> list[int]:
    """Ids of the duplicates merged or linked into `primary_id`."""
    pattern = f'%"{merged_reason(primary_id)}"%'
    rows = session.scalars(
        select(Incident.id)
        .where(
            Incident.visibility == "removed",
            cast(Incident.visibility_reasons, String).like(pattern),
        )
        .order_by(Incident.id)
    )
    return list(rows)


def _links(session: Session, ids: Sequence[int]) -> dict[int, set[int]]:
    """Incident id → incidents a post's corroboration links it with, in either direction.

    Corroboration is decided on the post's exact (private) point when it is published; its
    public point is displaced by up to several hundred metres, so the two may look far apart.
    """
    if not ids:
        return {}
    pairs = session.execute(
        select(Post.incident_id, Post.corroborated_by).where(
            or_(Post.incident_id.in_(ids), Post.corroborated_by.in_(ids)),
            Post.incident_id.is_not(None),
            Post.corroborated_by.is_not(None),
        )
    )
    found: dict[int, set[int]] = {}
    for post_incident, dispatch in pairs:
        if post_incident is None or dispatch is None:
            continue
        found.setdefault(post_incident, set()).add(dispatch)
        found.setdefault(dispatch, set()).add(post_incident)
    return found


def _corroborating(session: Session, incident: Incident, links: set[int]) -> list[Corroboration]:
    point = geo.Point(incident.lat, incident.lon)
    near = nearby(session, point, incident.occurred_at, exclude=incident.id)
    found = [
        Corroboration(
            id=n.incident.id,
            origin=n.incident.origin,
            category=n.incident.category,
            distance_m=n.distance_m,
            minutes_apart=n.minutes_apart,
            exact_match=n.incident.id in links,
        )
        for n in near
    ]
    shown = {n.incident.id for n in near}
    extra = sorted(links - shown)
    for other in session.scalars(
        select(Incident).where(Incident.id.in_(extra), Incident.visibility == "public")
    ):
        found.append(
            Corroboration(
                id=other.id,
                origin=other.origin,
                category=other.category,
                distance_m=round(geo.haversine_m(point.lat, point.lon, other.lat, other.lon), 1),
                minutes_apart=round(
                    abs((other.occurred_at - incident.occurred_at).total_seconds()) / 60, 1
                ),
                exact_match=True,
            )
        )
    return found


def items(session: Session, rows: Sequence[Incident], now: datetime) -> list[DeskItem]:
    """The desk view of several incidents, in the given order."""
    ids = [i.id for i in rows]
    decisions = _decisions(session, ids)
    marked = marks(session, ids)
    links = _links(session, ids)
    agencies = {a.id: a.name for a in session.scalars(select(Agency))} if rows else {}
    sources = {s.id: s.slug for s in session.scalars(select(Source))} if rows else {}
    corroborated = (
        set(
            session.scalars(
                select(Post.incident_id).where(
                    Post.incident_id.in_(ids), Post.corroborated_by.is_not(None)
                )
            )
        )
        if rows
        else set()
    )
    out = []
    for row in rows:
        done = decisions.get(row.id, [])
        until = done[0].at if done else now
        out.append(
            DeskItem(
                id=row.id,
                origin=row.origin,
                provenance=CORROBORATED if row.id in corroborated else PROVENANCE[row.origin],
                agency=agencies.get(row.agency_id) if row.agency_id else None,
                source=sources.get(row.source_id) if row.source_id else None,
                category=row.category,
                severity=row.severity,
                status=row.status,
                title=seal_text(row.title),
                summary=seal_text(row.summary),
                occurred_at=row.occurred_at,
                published_at=row.published_at,
                gate=Gate(
                    visibility=row.visibility,
                    visibility_reasons=list(row.visibility_reasons),
                    alertable=row.alertable,
                    alert_reasons=list(row.alertable_reasons),
                ),
                corroborating=_corroborating(session, row, links.get(row.id, set())),
                linked=linked(session, row.id),
                waited_s=max(int((until - row.published_at).total_seconds()), 0),
                decided=done[0] if done else None,
                decisions=done,
                marks=marked.get(row.id, Marks()),
            )
        )
    return out


def queue_rows(session: Session, filters: Filters, limit: int) -> list[Incident]:
    """The incidents of the queue in its order: waiting first, newest first in each."""
    query = select(Incident).where(
        Incident.visibility.in_(("public", "withheld")), Incident.status == "active"
    )
    if filters.source:
        query = query.join(Source, Source.id == Incident.source_id).where(
            Source.slug == filters.source
        )
    box = filters.box
    if box is not None:
        south, west, north, east = box
        query = query.where(Incident.lat.between(south, north), Incident.lon.between(west, east))
    query = query.order_by(Incident.published_at.desc(), Incident.id.desc()).limit(limit * 4)
    rows = [row for row in session.scalars(query) if filters.keeps(row)]
    decided = _decisions(session, [r.id for r in rows])
    rows.sort(key=lambda r: r.id in decided)  # stable: waiting items first, newest first
    return rows[:limit]


def queue(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    limit: int = 50,
    filters: Filters | None = None,
) -> list[DeskItem]:
    """Items entering the feed, public or withheld: undecided first, newest first in each."""
    moderator(actor)
    return items(session, queue_rows(session, filters or Filters(), limit), now)


def sources(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of every feed source, by name: the desk's source filter offers them."""
    return [(s.slug, s.name) for s in session.scalars(select(Source).order_by(Source.name))]


def fingerprint(item: DeskItem) -> str:
    """A short hash of what the desk shows of an item (not its waiting time, which the page
    counts itself): equal fingerprints, nothing to send again."""
    shown = item.model_dump_json(exclude={"waited_s"})
    return hashlib.sha256(shown.encode()).hexdigest()[:12]


def stamp(session: Session, rows: Sequence[Incident], filters: Filters) -> str:
    """A version of the queue, cheap to compute: it changes when an item enters, leaves or
    changes, a curator acts, a reader marks an alert, or any incident arrives (an item's
    nearby list). The same stamp twice: the curator already has the queue (HTTP 304)."""
    newest = session.execute(
        select(
            func.max(Incident.id),
            select(func.max(AuditEntry.id)).scalar_subquery(),
            select(func.max(Feedback.updated_at)).scalar_subquery(),
        )
    ).one()
    basis = [filters.query(), [(r.id, r.updated_at.isoformat()) for r in rows], list(newest)]
    return hashlib.sha256(repr(basis).encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Changes:
    """What a curator's open desk lacks: the queue's order, and the items it does not hold as
    they are now (new or changed)."""

    order: list[int]
    changed: list[DeskItem]
    fingerprints: dict[int, str]


def changes(
    session: Session, rows: Sequence[Incident], have: dict[int, str], *, now: datetime
) -> Changes:
    """The queue's order and only the items of `rows` (from `queue_rows`) whose fingerprint
    differs from `have` (id → the fingerprint the page holds)."""
    shown = items(session, rows, now)
    prints = {i.id: fingerprint(i) for i in shown}
    changed = [i for i in shown if have.get(i.id) != prints[i.id]]
    return Changes([i.id for i in shown], changed, prints)


def item(session: Session, incident_id: int, *, actor: Actor, now: datetime) -> DeskItem:
    """One incident as the desk sees it, whatever its visibility."""
    moderator(actor)
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id} not found")
    return items(session, [row], now)[0]
