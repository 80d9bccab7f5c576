"""A CAP alert's own words for the incident relayed from it, read back from what was stored.

An incident that came from a CAP alert (a source of kind cap, or pushed CAP) is relayed in
the alert's own words: its event, headline, description and instruction from the newest
record received for it, scrubbed by that source's privacy policy like every text we publish,
and its own expiry. The CAP writer (`formats`) asks here, so no output module reads a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare.ingest.cap_events import reads_cap
from townsquare.ingest.models import RawRecord, Source, SourceRecord
from townsquare.ingest.policy import policy_of
from townsquare.privacy import engine as privacy

RECENT = 5
"""Raw records read back to find the newest with words of its own."""


@dataclass(frozen=True, slots=True)
class Relayed:
    """What a relayed CAP alert said itself (already scrubbed): kept instead of our wording."""

    event: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    same_code: str = ""
    """Its SAME event code (e.g. "TOR"), if it gave one."""
    expires: datetime | None = None


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
