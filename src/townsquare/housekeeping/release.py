"""The release run: delayed incidents whose delay has passed become public.

The same periodic run closes the feed items of footage requests that expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare import taxonomy
from townsquare.db import transaction
from townsquare.events import topics
from townsquare.events.outbox import announce
from townsquare.footage import service as footage
from townsquare.incidents.models import Incident
from townsquare.ingest import lifecycle
from townsquare.ingest.models import Source
from townsquare.ingest.policy import policy_of
from townsquare.privacy import gate
from townsquare.privacy.policy import default_policy

RELEASE_WINDOW = timedelta(days=30)
"""Delayed incidents older than this are not looked at again (delays are at most 7 days)."""


def release_due(factory: sessionmaker[Session], *, now: datetime) -> int:
    """Publish incidents whose publication delay has passed; returns how many were released.

    The same periodic run closes the feed items of footage requests that expired, and the
    source records (CAP alerts) whose `expires` has passed.
    """
    released = 0
    with transaction(factory) as session:
        footage.close_expired(session, now=now)
        lifecycle.close_expired(session, now=now)  # CAP alerts past their `expires`
        held = session.scalars(
            select(Incident).where(
                Incident.visibility == "withheld",
                Incident.occurred_at >= now - RELEASE_WINDOW,
                cast(Incident.visibility_reasons, String).like(f'["{gate.DELAYED}%'),
            )
        )
        sources = {s.id: s for s in session.scalars(select(Source))}
        for incident in held:
            source = sources.get(incident.source_id or -1)
            policy = policy_of(source).policy if source else default_policy()
            decision = gate.decide(
                policy,
                taxonomy.get(incident.category),
                incident.original_type,
                incident.occurred_at,
                now,
                incident.severity,
            )
            incident.visibility_reasons = list(decision.visibility_reasons)
            incident.alertable = decision.alertable
            incident.alertable_reasons = list(decision.alertable_reasons)
            if decision.visibility == "public":
                incident.visibility = "public"
                incident.published_at = incident.updated_at = now
                announce(session, topics.INCIDENT_PUBLISHED, {"id": incident.id})
                released += 1
    return released
