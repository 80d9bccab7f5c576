"""A public incident made outside ingestion: a resident's post, an agency's footage request.

One constructor, so every such incident gets its H3 cells, its taxonomy severity and a
content hash the same way; ingestion builds its own from normalized records.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from townsquare import geo, taxonomy
from townsquare.incidents.models import Incident


def public_incident(
    *,
    origin: str,
    external_id: str,
    category: str,
    title: str,
    summary: str,
    point: geo.Point,
    occurred_at: datetime,
    now: datetime,
    alert_reasons: list[str],
    alertable: bool = False,
    agency_id: int | None = None,
) -> Incident:
    """A new active, public incident at an already public (coarsened or displaced) point."""
    cells = geo.cells_of(point)
    return Incident(
        origin=origin,
        external_id=external_id,
        agency_id=agency_id,
        category=category,
        original_type=taxonomy.get(category).label,
        title=title,
        summary=summary,
        address_block=None,
        lat=point.lat,
        lon=point.lon,
        h3_r5=cells[5],
        h3_r7=cells[7],
        h3_r9=cells[9],
        occurred_at=occurred_at,
        published_at=now,
        updated_at=now,
        status="active",
        severity=taxonomy.get(category).severity,
        visibility="public",
        visibility_reasons=[],
        alertable=alertable,
        alertable_reasons=alert_reasons,
        unit_count=1,
        content_hash=hashlib.sha256(f"{external_id}:{title}".encode()).hexdigest(),
    )
