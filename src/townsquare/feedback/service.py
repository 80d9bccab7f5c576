"""Readers' votes on alerts, and the desk's quality figures built from them.

One vote per reader and alert: a signed-in reader is keyed by an HMAC of the account id,
an anonymous one by an HMAC of (IP, user agent, UTC day), so a raw IP never reaches the
database. Anonymous votes are also limited per (IP, day) key and hour.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townsquare import taxonomy
from townsquare.accounts.security import keyed_digest
from townsquare.agencies.models import Agency
from townsquare.alerts.models import Delivery
from townsquare.audit import AuditEntry
from townsquare.errors import Conflict, NotFound, TooManyRequests
from townsquare.feedback.models import Feedback
from townsquare.feedback.schemas import FeedbackOut, Marks, Quality, QualityRow, Verdict
from townsquare.incidents.models import Incident
from townsquare.ingest.models import Source
from townsquare.settings import Settings

RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Reader:
    """Who votes: an account, or an anonymous visitor known only for the request."""

    account_id: int | None
    ip: str
    user_agent: str


def _keys(secret: bytes, reader: Reader, now: datetime) -> tuple[str, str | None]:
    """(voter, rate key): pseudonyms under the server secret; the rate key for anonymous only."""
    if reader.account_id is not None:
        return keyed_digest(secret, f"feedback|account|{reader.account_id}"), None
    day = now.date().isoformat()
    voter = keyed_digest(secret, f"feedback|anonymous|{reader.ip}|{reader.user_agent}|{day}")
    return voter, keyed_digest(secret, f"feedback|rate|{reader.ip}|{day}")


def account_voter(secret: bytes, account_id: int) -> str:
    """The voter key of an account (for its data export and deletion)."""
    return _keys(secret, Reader(account_id, "", ""), datetime.min)[0]


def votes_of(session: Session, secret: bytes, account_id: int) -> list[dict[str, object]]:
    """An account's marks, for its data export."""
    rows = session.scalars(
        select(Feedback)
        .where(Feedback.voter == account_voter(secret, account_id))
        .order_by(Feedback.id)
    )
    return [
        {
            "incident_id": row.incident_id,
            "verdict": row.verdict,
            "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
        }
        for row in rows
    ]


def forget(session: Session, secret: bytes, account_id: int) -> int:
    """Delete an account's marks (account deletion); returns how many there were."""
    doomed = delete(Feedback).where(Feedback.voter == account_voter(secret, account_id))
    return int(session.execute(doomed).rowcount or 0)  # type: ignore[attr-defined]


def _alerted() -> ColumnElement[bool]:
    """SQL: the incident went out as an alert (it is alertable, or an alert was delivered)."""
    delivered = select(Delivery.incident_id).where(Delivery.kind == "alert")
    return or_(Incident.alertable.is_(True), Incident.id.in_(delivered))


def was_alerted(session: Session, incident: Incident) -> bool:
    """True when readers could have received this incident as an alert."""
    if incident.alertable and incident.visibility == "public":
        return True
    sent = select(Delivery.id).where(Delivery.incident_id == incident.id, Delivery.kind == "alert")
    return session.scalar(sent.limit(1)) is not None


def vote(
    session: Session,
    settings: Settings,
    secret: bytes,
    incident_id: int,
    verdict: Verdict,
    reader: Reader,
    now: datetime,
) -> FeedbackOut:
    """Record or change the reader's one vote on an alert."""
    incident = session.get(Incident, incident_id)
    alerted = incident is not None and was_alerted(session, incident)
    if incident is None or (incident.visibility != "public" and not alerted):
        raise NotFound(f"incident {incident_id} not found")
    if not alerted:
        raise Conflict(f"only alerts can be marked; incident {incident_id} was not sent as one")
    voter, rate_key = _keys(secret, reader, now)
    mine = select(Feedback).where(Feedback.incident_id == incident_id, Feedback.voter == voter)
    existing = session.scalar(mine)
    if existing is None and rate_key is not None:
        recent = session.scalar(
            select(func.count()).where(
                Feedback.rate_key == rate_key, Feedback.created_at > now - RATE_WINDOW
            )
        )
        if (recent or 0) >= settings.feedback_anonymous_per_hour:
            raise TooManyRequests(
                f"at most {settings.feedback_anonymous_per_hour} marks an hour without an "
                "account; sign in to mark more"
            )
    if existing is None:
        row = Feedback(
            incident_id=incident_id,
            verdict=verdict,
            voter=voter,
            signed_in=reader.account_id is not None,
            rate_key=rate_key,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same reader's concurrent request won the insert
            existing = session.scalar(mine)
            if existing is None:
                raise
        else:
            session.commit()
            return FeedbackOut(incident_id=incident_id, verdict=verdict, changed=True)
    changed = existing.verdict != verdict
    if changed:
        existing.verdict = verdict
        existing.updated_at = now
        session.commit()
    return FeedbackOut(incident_id=incident_id, verdict=verdict, changed=changed)


def marks(session: Session, incident_ids: Sequence[int]) -> dict[int, Marks]:
    """Votes per incident, for the desk's items."""
    found: dict[int, Marks] = {}
    if not incident_ids:
        return found
    rows = session.execute(
        select(Feedback.incident_id, Feedback.verdict, func.count())
        .where(Feedback.incident_id.in_(incident_ids))
        .group_by(Feedback.incident_id, Feedback.verdict)
    )
    for incident_id, verdict, count in rows:
        setattr(found.setdefault(incident_id, Marks()), verdict, int(count))
    return found


def reader_of(account_id: int | None, ip: str | None, user_agent: str | None) -> Reader:
    """The reader of a request; a missing address still gets one (shared) anonymous key."""
    return Reader(account_id, ip or "unknown", (user_agent or "")[:300])


# --- quality figures ---------------------------------------------------------------------


@dataclass
class _Tally:
    alerts: int = 0
    not_useful: int = 0
    inaccurate: int = 0
    entered: int = 0
    waits: list[float] = field(default_factory=list)

    def row(self, key: str, label: str) -> QualityRow:
        waits = self.waits
        return QualityRow(
            key=key,
            label=label,
            alerts=self.alerts,
            marked_not_useful=self.not_useful,
            marked_inaccurate=self.inaccurate,
            share_not_useful=round(self.not_useful / self.alerts, 4) if self.alerts else None,
            share_inaccurate=round(self.inaccurate / self.alerts, 4) if self.alerts else None,
            entered=self.entered,
            decided=len(waits),
            median_decision_s=round(statistics.median(waits)) if waits else None,
        )


def _first_decisions(session: Session, since: datetime) -> dict[int, datetime]:
    """Incident id → time of the first curator decision made since `since`."""
    rows = session.execute(
        select(AuditEntry.object_id, func.min(AuditEntry.at))
        .where(
            AuditEntry.object_type == "incident",
            AuditEntry.action.startswith("desk."),
            AuditEntry.at >= since,
        )
        .group_by(AuditEntry.object_id)
    )
    return {int(object_id): at for object_id, at in rows if object_id.isdecimal()}


def _source_keys(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    sources = {s.id: s.slug for s in session.scalars(select(Source))}
    agencies = {a.id: a.name for a in session.scalars(select(Agency))}
    return sources, agencies


def _source_of(
    origin: str,
    source_id: int | None,
    agency_id: int | None,
    names: tuple[dict[int, str], dict[int, str]],
) -> tuple[str, str]:
    """(key, label) of where an incident came from: its feed, residents, or an agency."""
    sources, agencies = names
    if source_id is not None and source_id in sources:
        return sources[source_id], sources[source_id]
    if origin == "resident":
        return "residents", "Resident posts"
    if agency_id is not None and agency_id in agencies:
        return f"agency-{agency_id}", f"Official updates: {agencies[agency_id]}"
    return origin, origin.capitalize()


def _label(code: str) -> str:
    known = taxonomy.categories().get(code)
    return known.label if known is not None else code


def quality(session: Session, *, since: datetime, until: datetime) -> Quality:
    """Alerts marked by readers and curators' time to decision, per source and category.

    Counted over incidents that entered the feed (their `published_at`) in [since, until);
    "ingestion" is that moment, since a delayed call type reaches the desk only when released.
    """
    window = (Incident.published_at >= since, Incident.published_at < until)
    names = _source_keys(session)
    by_source: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    by_category: dict[str, _Tally] = defaultdict(_Tally)
    total = _Tally()

    def tallies(
        origin: str, source_id: int | None, agency_id: int | None, category: str
    ) -> Iterable[_Tally]:
        return (
            by_source[_source_of(origin, source_id, agency_id, names)],
            by_category[category],
            total,
        )

    # One pass over the period: incidents entered and alerts sent, per source and category.
    group = (Incident.origin, Incident.source_id, Incident.agency_id, Incident.category)
    alerts = func.sum(case((_alerted(), 1), else_=0))
    for origin, source_id, agency_id, category, entered, alerted in session.execute(
        select(*group, func.count(), alerts).where(*window).group_by(*group)
    ):
        for tally in tallies(origin, source_id, agency_id, category):
            tally.entered += int(entered)
            tally.alerts += int(alerted or 0)
    # Then the few incidents readers marked or curators decided, by key.
    marked = session.execute(
        select(*group, Feedback.incident_id, Feedback.verdict)
        .join(Incident, Incident.id == Feedback.incident_id)
        .where(*window, _alerted())
        .distinct()
    )
    for origin, source_id, agency_id, category, _, verdict in marked:
        for tally in tallies(origin, source_id, agency_id, category):
            tally.not_useful += verdict == "not_useful"
            tally.inaccurate += verdict == "inaccurate"
    decisions = _first_decisions(session, since)
    decided = session.execute(
        select(*group, Incident.id, Incident.published_at).where(
            *window, Incident.id.in_(list(decisions))
        )
    )
    for origin, source_id, agency_id, category, incident_id, published_at in decided:
        wait = (decisions[incident_id] - published_at).total_seconds()
        for tally in tallies(origin, source_id, agency_id, category):
            tally.waits.append(max(wait, 0.0))
    return Quality(
        since=since,
        until=until,
        totals=total.row("all", "All sources"),
        by_source=sorted(
            (t.row(key, label) for (key, label), t in by_source.items()),
            key=lambda r: (-r.alerts, -r.entered, r.key),
        ),
        by_category=sorted(
            (t.row(code, _label(code)) for code, t in by_category.items()),
            key=lambda r: (-r.alerts, -r.entered, r.key),
        ),
    )
