"""Queries behind the CAP documents: an incident's current CAP message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from townsquare.formats.cap import Origin, cap_alert, cap_cancel
from townsquare.incidents.service import Removed, get_public_or_removed


def cap_message(session: Session, incident_id: int, origin: Origin) -> bytes:
    """Alert/Update while public, Cancel once removed; withheld reads as absent (404)."""
    found = get_public_or_removed(session, incident_id)
    if isinstance(found, Removed):
        return cap_cancel(found.id, found.published_at, found.removed_at, origin)
    return cap_alert(found, origin)
