"""Factories that put realistic rows in the store for tests that are not about ingestion."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from townsquare import geo, taxonomy
from townsquare.agencies.models import Agency
from townsquare.events.outbox import announce
from townsquare.incidents.models import Incident

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def agency(session: Session, slug: str = "test-fire") -> Agency:
    """An agency for incidents to belong to."""
    row = Agency(slug=slug, name="Test Fire Department", time_zone="America/Los_Angeles")
    session.add(row)
    session.flush()
    return row


def incident(
    session: Session,
    *,
    lat: float,
    lon: float,
    occurred_at: datetime,
    category: str = "fire.structure",
    visibility: str = "public",
    agency_id: int | None = None,
    external_id: str | None = None,
) -> Incident:
    """A dispatch incident at the public (coarsened) form of the given point."""
    point = geo.coarsen(geo.Point(lat, lon))
    cells = geo.cells_of(point)
    cat = taxonomy.get(category)
    row = Incident(
        origin="dispatch",
        external_id=external_id,
        agency_id=agency_id,
        category=category,
        original_type=cat.label,
        title=cat.label,
        summary="",
        address_block="100 block of Pine St",
        lat=point.lat,
        lon=point.lon,
        h3_r5=cells[5],
        h3_r7=cells[7],
        h3_r9=cells[9],
        occurred_at=occurred_at,
        published_at=occurred_at,
        updated_at=occurred_at,
        status="active",
        severity=cat.severity,
        visibility=visibility,
        visibility_reasons=[],
        alertable=False,
        alertable_reasons=["not alerted: test"],
        unit_count=1,
        content_hash="x",
    )
    session.add(row)
    session.flush()
    if visibility == "public":
        announce(session, "incident.published", {"id": row.id})
    return row


def scatter(
    session: Session,
    n: int,
    seed: int,
    center: tuple[float, float] = (47.61, -122.33),
    spread_deg: float = 0.08,
) -> list[Incident]:
    """`n` incidents around `center`, clustered, over 30 days, some withheld, seeded."""
    rng = random.Random(seed)
    codes = [
        "fire.structure",
        "fire.alarm",
        "traffic.collision",
        "crime.burglary",
        "crime.theft",
        "medical",
        "safety.hazard",
    ]
    hubs = [
        (
            center[0] + rng.uniform(-spread_deg, spread_deg),
            center[1] + rng.uniform(-spread_deg, spread_deg),
        )
        for _ in range(6)
    ]
    rows = []
    for _ in range(n):
        hub = rng.choice(hubs)
        lat = hub[0] + rng.gauss(0, spread_deg / 6)
        lon = hub[1] + rng.gauss(0, spread_deg / 6)
        code = rng.choice(codes)
        when = BASE_TIME - timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        visibility = "withheld" if taxonomy.get(code).sensitive else "public"
        rows.append(
            incident(
                session, lat=lat, lon=lon, occurred_at=when, category=code, visibility=visibility
            )
        )
    return rows
