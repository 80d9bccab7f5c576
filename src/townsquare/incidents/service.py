"""Feed queries: the in-memory index on the hot path, SQL over H3 columns as fallback."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from townsquare import geo, taxonomy
from townsquare.agencies.models import Agency
from townsquare.errors import NotFound
from townsquare.events import topics
from townsquare.incidents import attachments
from townsquare.incidents.encoded import EncodedFeed
from townsquare.incidents.index import FeedIndex, IndexItem
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import (
    CORROBORATED,
    PROVENANCE,
    AgencyIncident,
    BBox,
    Circle,
    FeedQuery,
    IncidentPublic,
    MediaPublic,
)
from townsquare.posts.models import Post
from townsquare.privacy.public import seal_address, seal_point, seal_text

SQL_BATCH = 200


def to_public(
    incident: Incident,
    agency_name: str | None,
    corroborated_by: int | None = None,
    media: list[MediaPublic] | None = None,
) -> IncidentPublic:
    """The public form of a stored incident: the one way out of the store."""
    return IncidentPublic(
        id=incident.id,
        category=incident.category,
        category_label=taxonomy.get(incident.category).label,
        title=seal_text(incident.title),
        summary=seal_text(incident.summary),
        original_type=seal_text(incident.original_type),
        address_block=seal_address(incident.address_block),
        point=seal_point(incident.lat, incident.lon),
        occurred_at=incident.occurred_at,
        published_at=incident.published_at,
        updated_at=incident.updated_at,
        status=incident.status,
        closed_at=incident.closed_at,
        severity=incident.severity,
        origin=incident.origin,
        provenance=CORROBORATED if corroborated_by else PROVENANCE[incident.origin],
        agency=agency_name,
        alertable=incident.alertable,
        alert_reasons=list(incident.alertable_reasons),
        corroborated_by=corroborated_by,
        media=media or [],
        location_precision=incident.location_precision,
    )


def _agency_names(session: Session, incidents: Sequence[Incident]) -> dict[int, str]:
    ids = {i.agency_id for i in incidents if i.agency_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids)))
    return {agency_id: name for agency_id, name in rows}


def _corroborations(session: Session, incidents: Sequence[Incident]) -> dict[int, int]:
    """Resident incident id -> the public dispatch incident its post was corroborated by."""
    ids = [i.id for i in incidents if i.origin == "resident"]
    if not ids:
        return {}
    rows = session.execute(
        select(Post.incident_id, Post.corroborated_by)
        .join(Incident, Incident.id == Post.corroborated_by)
        .where(Post.incident_id.in_(ids), Incident.visibility == "public")
    )
    return {resident: dispatch for resident, dispatch in rows if resident and dispatch}


def publish_all(session: Session, incidents: Sequence[Incident]) -> list[IncidentPublic]:
    """Public forms of several incidents, in the given order."""
    names = _agency_names(session, incidents)
    links = _corroborations(session, incidents)
    media = attachments.of_incidents(session, [i.id for i in incidents if i.origin == "resident"])
    return [
        to_public(
            i, names.get(i.agency_id) if i.agency_id else None, links.get(i.id), media.get(i.id)
        )
        for i in incidents
    ]


def get_public(session: Session, incident_id: int) -> IncidentPublic:
    """One public incident, closed ones too; withheld and removed ones are as if absent."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.visibility != "public":
        raise NotFound(f"incident {incident_id} not found")
    return publish_all(session, [incident])[0]


@dataclass(frozen=True)
class Removed:
    """What may still be said of an incident taken out of the public feed: ids, times, and its
    public point (a Cancel names only a district around it)."""

    id: int
    published_at: datetime
    removed_at: datetime
    lat: float
    lon: float


def get_public_or_removed(session: Session, incident_id: int) -> IncidentPublic | Removed:
    """The public incident, or the fact of its removal (so a Cancel can follow it)."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.visibility == "withheld":
        raise NotFound(f"incident {incident_id} not found")
    if incident.visibility == "removed":
        return Removed(
            incident.id, incident.published_at, incident.updated_at, incident.lat, incident.lon
        )
    return publish_all(session, [incident])[0]


def of_agency(
    session: Session, agency_id: int, visibility: str | None, before_id: int | None, limit: int
) -> list[AgencyIncident]:
    """An agency's own incidents, newest first, withheld ones too (for its officers alone)."""
    query = select(Incident).where(Incident.agency_id == agency_id)
    if visibility is not None:
        query = query.where(Incident.visibility == visibility)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    rows = list(session.scalars(query.order_by(Incident.id.desc()).limit(limit)))
    return [
        AgencyIncident(
            incident=public, visibility=row.visibility, visibility_reasons=row.visibility_reasons
        )
        for row, public in zip(rows, publish_all(session, rows), strict=True)
    ]


def index_item(incident: Incident) -> IndexItem:
    """The feed-index entry of an incident."""
    return IndexItem(
        incident.id, incident.lat, incident.lon, incident.occurred_at.timestamp(), incident.category
    )


def in_live_feed(incident: Incident) -> bool:
    """Public and not yet closed: a cleared incident stays readable but leaves the feed."""
    return incident.visibility == "public" and incident.status == "active"


def load_index(session: Session) -> FeedIndex:
    """Rebuild the feed index from every public, active incident in the store."""
    rows = session.execute(
        select(Incident.id, Incident.lat, Incident.lon, Incident.occurred_at, Incident.category)
        .where(Incident.visibility == "public", Incident.status == "active")
        .execution_options(yield_per=10_000)
    )
    return FeedIndex.build(
        IndexItem(i, lat, lon, _as_utc(at).timestamp(), cat) for i, lat, lon, at, cat in rows
    )


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class Change:
    """What one bus event means for the feed: the incident's index entry and public form,
    both None when it is no longer in the live feed."""

    incident_id: int
    item: IndexItem | None
    public: IncidentPublic | None
    corroborated: tuple[int, ...] = ()
    """Resident incidents this one corroborates: their public form names it while it is public."""


def read_event(
    factory: sessionmaker[Session], topic: str, payload: dict[str, Any]
) -> Change | None:
    """Re-read the incident an event names (outside the index lock: it touches the store)."""
    if not topics.about_incident(topic):
        return None
    incident_id = int(payload["id"])
    with factory() as session:
        incident = session.get(Incident, incident_id)
        linked = session.scalars(
            select(Post.incident_id).where(Post.corroborated_by == incident_id)
        )
        corroborated = tuple(i for i in linked if i is not None)
        if incident is None or not in_live_feed(incident):
            return Change(incident_id, None, None, corroborated)
        public = publish_all(session, [incident])[0]
        return Change(incident_id, index_item(incident), public, corroborated)


def apply_change(index: FeedIndex, encoded: EncodedFeed | None, change: Change) -> None:
    """Bring the index and the encoded incidents to what the store said (under the lock)."""
    if encoded is not None:
        for incident_id in (change.incident_id, *change.corroborated):
            encoded.forget(incident_id)
    if change.item is None or change.public is None:
        index.remove(change.incident_id)
        return
    index.upsert(change.item)
    if encoded is not None:
        encoded.keep([change.public])


def apply_event(
    factory: sessionmaker[Session],
    index: FeedIndex,
    topic: str,
    payload: dict[str, Any],
    encoded: EncodedFeed | None = None,
) -> None:
    """Keep the index current from one bus event; idempotent, so re-delivery is harmless."""
    change = read_event(factory, topic, payload)
    if change is not None:
        apply_change(index, encoded, change)


def live_public(session: Session, ids: Sequence[int]) -> list[IncidentPublic]:
    """Public forms of the incidents `ids` names that are still live, in the given order."""
    rows = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
    # An item the index still holds but the store has since hidden is skipped, not shown.
    return publish_all(session, [rows[i] for i in ids if i in rows and in_live_feed(rows[i])])


def query_feed(session: Session, index: FeedIndex | None, query: FeedQuery) -> list[IncidentPublic]:
    """Newest-first page of public incidents matching `query` (index if given, else SQL)."""
    ids = index_ids(index, query) if index is not None else None
    if ids is None:
        return publish_all(session, query_sql(session, query))
    return live_public(session, ids)


def index_ids(index: FeedIndex, query: FeedQuery) -> list[int]:
    """Ids of the query's page from the index, newest first (callers hold its lock)."""
    since = query.since.timestamp() if query.since else None
    until = query.until.timestamp() if query.until else None
    if isinstance(query.area, Circle):
        found = index.query_ranks(
            query.area.center.lat,
            query.area.center.lon,
            query.area.radius_m,
            query.limit,
            before=query.before,
            since=since,
            until=until,
            category=query.category,
        )
    else:
        box = query.area
        found = index.query_bbox_ranks(
            box.west,
            box.south,
            box.east,
            box.north,
            query.limit,
            before=query.before,
            since=since,
            until=until,
            category=query.category,
        )
    return index.ids_of(found)


def _sql_resolution(radius_m: float) -> int:
    if radius_m <= 1_000:
        return 9
    return 7 if radius_m <= 10_000 else 5


def _filters(query: FeedQuery) -> list[Any]:
    conditions: list[Any] = [Incident.visibility == "public", Incident.status == "active"]
    if query.category:
        conditions.append(
            or_(
                Incident.category == query.category,
                Incident.category.startswith(query.category + ".", autoescape=True),
            )
        )
    if query.since:
        conditions.append(Incident.occurred_at >= query.since)
    if query.until:
        conditions.append(Incident.occurred_at < query.until)
    return conditions


def _in_area(incident: Incident, area: Circle | BBox) -> bool:
    if isinstance(area, Circle):
        distance = geo.haversine_m(area.center.lat, area.center.lon, incident.lat, incident.lon)
        return distance <= area.radius_m
    return area.west <= incident.lon <= area.east and area.south <= incident.lat <= area.north


def query_sql(session: Session, query: FeedQuery) -> list[Incident]:
    """The store-of-record path: H3 cells IN (...), exact test, keyset order; both backends."""
    conditions = _filters(query)
    area = query.area
    if isinstance(area, Circle):
        res = _sql_resolution(area.radius_m)
        column = {5: Incident.h3_r5, 7: Incident.h3_r7, 9: Incident.h3_r9}[res]
        conditions.append(column.in_(geo.disk_cells(area.center, area.radius_m, res)))
    else:
        conditions.append(
            and_(
                Incident.lon.between(area.west, area.east),
                Incident.lat.between(area.south, area.north),
            )
        )
    found: list[Incident] = []
    after = _before_condition(query.before)
    while len(found) < query.limit:
        stmt = (
            select(Incident)
            .where(*conditions, *after)
            .order_by(Incident.occurred_at.desc(), Incident.id.desc())
            .limit(SQL_BATCH)
        )
        batch = session.scalars(stmt).all()
        found.extend(i for i in batch if _in_area(i, area))
        if len(batch) < SQL_BATCH:
            break
        last = batch[-1]
        after = _before_condition((last.occurred_at.timestamp(), last.id))
    return found[: query.limit]


def _before_condition(before: tuple[float, int] | None) -> list[Any]:
    if before is None:
        return []
    stamp = datetime.fromtimestamp(before[0], UTC)
    return [tuple_(Incident.occurred_at, Incident.id) < tuple_(stamp, before[1])]


def iter_public(session: Session) -> Iterator[Incident]:
    """Every public incident, newest first (exports and checks)."""
    yield from session.scalars(
        select(Incident)
        .where(Incident.visibility == "public")
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())
    )
