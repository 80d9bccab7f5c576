"""Stores for the feed tests: a few known incidents in two cities, or 300 scattered ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from townsquare.db import transaction
from townsquare.incidents.models import Incident

SEATTLE = (47.6062, -122.3321)
SAN_FRANCISCO = (37.7793, -122.4193)
METRES_PER_DEGREE_LAT = 111_320
CENTER = (47.61, -122.33)  # where `scattered` clusters its incidents

# name: (category, title, place, metres north of it, minutes ago, visibility)
ROWS = {
    "collision": ("traffic.collision", "Motor Vehicle Accident", SEATTLE, 0, 10, "public"),
    "fire": ("fire.structure", "Structure Fire", SEATTLE, 400, 30, "public"),
    "alarm": ("fire.alarm", "Automatic Fire Alarm", SEATTLE, -600, 180, "public"),
    "far": ("traffic.collision", "Freeway Collision", SEATTLE, 3500, 5, "public"),
    "sf": ("fire.structure", "Structure Fire", SAN_FRANCISCO, 0, 20, "public"),
    "withheld": ("traffic.collision", "Secret Collision", SEATTLE, 100, 15, "withheld"),
}


@dataclass(frozen=True)
class Seeded:
    """The incidents the test store holds, by name, and when they were stored."""

    ids: dict[str, int]
    now: datetime


def seed(factory: sessionmaker[Session], now: datetime) -> Seeded:
    """Store `ROWS`: two places, one incident withheld, one outside the default radius."""
    ids: dict[str, int] = {}
    with transaction(factory) as session:
        agency = factories.agency(session)
        for name, (category, title, place, north_m, minutes, visibility) in ROWS.items():
            row = factories.incident(
                session,
                lat=place[0] + north_m / METRES_PER_DEGREE_LAT,
                lon=place[1],
                occurred_at=now - timedelta(minutes=minutes),
                category=category,
                visibility=visibility,
                agency_id=agency.id,
                external_id=name,
            )
            row.title = row.original_type = title
            row.alertable_reasons = ["not alerted: 3 h old"]
            ids[name] = row.id
    return Seeded(ids, now)


def scattered(factory: sessionmaker[Session]) -> list[Incident]:
    """Store 300 incidents clustered around `CENTER`, some withheld, all of one agency."""
    with transaction(factory) as session:
        ag = factories.agency(session)
        rows = factories.scatter(session, 300, seed=7)
        for row in rows:
            row.agency_id = ag.id
    return rows
