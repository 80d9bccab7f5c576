"""Queries behind the CAP documents: an incident's current CAP message.

A relayed CAP alert keeps its own words (`ingest.relayed`); a Cancel names only the withdrawn
incident's district.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from townsquare import geo
from townsquare.formats.cap import Area, Origin, cap_alert, cap_cancel
from townsquare.incidents.service import Removed, get_public_or_removed
from townsquare.ingest.relayed import relayed_alert

CANCEL_RESOLUTION = 5
"""A Cancel names the withdrawn incident's H3 resolution-5 district (cells ~8 km across)."""
CANCEL_RADIUS_KM = 10.0


def cap_message(session: Session, incident_id: int, origin: Origin) -> bytes:
    """Alert/Update while public, Cancel once removed; withheld reads as absent (404)."""
    found = get_public_or_removed(session, incident_id)
    if isinstance(found, Removed):
        return cap_cancel(found.id, found.published_at, found.removed_at, origin, _district(found))
    return cap_alert(found, origin, relayed_alert(session, incident_id))


def _district(found: Removed) -> Area:
    centre = geo.coarsen(geo.Point(found.lat, found.lon), CANCEL_RESOLUTION)
    return Area(centre.lat, centre.lon, CANCEL_RADIUS_KM)
