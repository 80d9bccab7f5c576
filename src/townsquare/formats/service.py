"""Queries behind the CAP documents: an incident's current CAP message, the area's index."""

from __future__ import annotations

from sqlalchemy.orm import Session

from townsquare.errors import NotFound
from townsquare.formats.cap import Origin, cap_alert, cap_cancel
from townsquare.incidents.models import Incident
from townsquare.incidents.service import publish_all


def cap_message(session: Session, incident_id: int, origin: Origin) -> bytes:
    """Alert/Update while public, Cancel once removed; withheld reads as absent (404)."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.visibility == "withheld":
        raise NotFound(f"incident {incident_id} not found")
    if incident.visibility == "removed":
        return cap_cancel(incident.id, incident.published_at, incident.updated_at, origin)
    return cap_alert(publish_all(session, [incident])[0], origin)
