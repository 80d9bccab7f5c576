"""Queries behind the CAP documents: an incident's current CAP message.

An incident that came from a CAP alert (a source of kind cap, or pushed CAP) is relayed in
the alert's own words: its event, headline, description and instruction from the newest
record received for it, scrubbed by that source's privacy policy like every text we publish,
and its own expiry.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare import geo
from townsquare.formats.cap import Area, Origin, Relayed, cap_alert, cap_cancel
from townsquare.incidents.models import Incident
from townsquare.incidents.service import Removed, get_public_or_removed
from townsquare.ingest.cap_events import reads_cap
from townsquare.ingest.models import RawRecord, Source, SourceRecord
from townsquare.ingest.policy import policy_of
from townsquare.privacy import engine as privacy

CANCEL_RESOLUTION = 5
"""A Cancel names the withdrawn incident's H3 resolution-5 district (cells ~8 km across)."""
CANCEL_RADIUS_KM = 10.0
RECENT = 5
"""Raw records read back to find the newest with words of its own."""


def cap_message(session: Session, incident_id: int, origin: Origin) -> bytes:
    """Alert/Update while public, Cancel once removed; withheld reads as absent (404)."""
    found = get_public_or_removed(session, incident_id)
    if isinstance(found, Removed):
        return cap_cancel(
            found.id, found.published_at, found.removed_at, origin, _district(session, found.id)
        )
    return cap_alert(found, origin, relayed_alert(session, incident_id))


def _district(session: Session, incident_id: int) -> Area:
    incident = session.get_one(Incident, incident_id)
    centre = geo.coarsen(geo.Point(incident.lat, incident.lon), CANCEL_RESOLUTION)
    return Area(centre.lat, centre.lon, CANCEL_RADIUS_KM)


def relayed_alert(session: Session, incident_id: int) -> Relayed | None:
    """The CAP alert's own words for an incident relayed from one, else None."""
    rows = session.execute(
        select(RawRecord.payload, Source)
        .join(Source, Source.id == RawRecord.source_id)
        .where(RawRecord.incident_id == incident_id, RawRecord.outcome == "normalized")
        .order_by(RawRecord.received_at.desc(), RawRecord.id.desc())
        .limit(RECENT)
    ).all()
    # A Cancel with no info (no event) closed the incident without words of its own.
    worded = [(json.loads(payload), source) for payload, source in rows]
    found = next(((p, s) for p, s in worded if p.get("event")), None)
    if found is None:
        return None
    said: dict[str, object] = found[0]
    source: Source = found[1]
    push = source.config.get("push") or {}
    if not reads_cap(source.kind, push.get("format") if isinstance(push, dict) else None):
        return None
    rules = policy_of(source).policy

    def text(key: str) -> str:
        value = str(said.get(key) or "").strip()
        return privacy.public_text(value, rules) if value else ""

    same = str(said.get("same") or "")
    expires = session.scalar(
        select(func.max(SourceRecord.expires_at)).where(SourceRecord.incident_id == incident_id)
    )
    return Relayed(
        event=text("event"),
        headline=text("headline"),
        description=text("description"),
        instruction=text("instruction"),
        same_code=same if len(same) == 3 and same.isalnum() else "",
        expires=expires,
    )
