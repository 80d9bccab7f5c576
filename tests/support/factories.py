"""Factories that put realistic rows in the store for tests that are not about ingestion."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from townsquare import geo, taxonomy
from townsquare.agencies.models import Agency
from townsquare.incidents import publish
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
    label = taxonomy.get(category).label
    form = publish.PublicForm(
        category=category,
        original_type=label,
        title=label,
        summary="",
        address_block="100 block of Pine St",
        point=geo.coarsen(geo.Point(lat, lon)),
        occurred_at=occurred_at,
    )
    identity = publish.Identity("dispatch", external_id, agency_id=agency_id)
    standing = publish.Standing(visibility, (), False, ("not alerted: test",))
    return publish.create(session, identity, form, standing, now=occurred_at)


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
