"""Footage requests: a verified agency with a jurisdiction, its officers, camera owners."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.residents import Mailbox, Person, privileged, resident
from townsquare.db import utcnow

CENTER = (47.61, -122.33)
INSIDE = (47.610437, -122.330521)  # about 60 m from the centre
OUTSIDE = (47.62, -122.33)  # about 1.1 km away
# About 4.5 by 4.4 km around the centre.
JURISDICTION = {
    "type": "Polygon",
    "coordinates": [
        [[-122.36, 47.59], [-122.30, 47.59], [-122.30, 47.63], [-122.36, 47.63], [-122.36, 47.59]]
    ],
}


def make_agency(factory: sessionmaker[Session], slug: str, *, verified: bool = True) -> int:
    """An agency with the test jurisdiction, verified unless asked otherwise."""
    with factory() as session:
        agency = factories.agency(session, slug)
        agency.name = f"{slug.replace('-', ' ').title()}"
        agency.jurisdiction = json.dumps(JURISDICTION)
        agency.verified_at = utcnow() if verified else None
        session.commit()
        return agency.id


def request_body(now: datetime, **changes: Any) -> dict[str, Any]:
    """A request inside every bound: a 300 m circle, an hour two hours ago, a week to run."""
    body: dict[str, Any] = {
        "case_number": "2026-123456",
        "reason": "Burglary on the block; looking for anyone passing between these times.",
        "circle": {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 300},
        "window_start": (now - timedelta(hours=2)).isoformat(),
        "window_end": (now - timedelta(hours=1)).isoformat(),
        "expires_at": (now + timedelta(days=7)).isoformat(),
    }
    return body | changes


def officer(
    client: TestClient, box: Mailbox, factory: sessionmaker[Session], email: str, slug: str
) -> Person:
    """A signed-in officer (two-factor) of the agency."""
    return privileged(client, box, factory, email, "agency_officer", utcnow(), agency=slug)


def camera_owner(client: TestClient, box: Mailbox, email: str, point: tuple[float, float]) -> Any:
    """A resident with one registered camera: (person, camera json with its token)."""
    person = resident(client, box, email)
    made = person.post("/api/v1/cameras", json={"name": "porch", "lat": point[0], "lon": point[1]})
    assert made.status_code == 201, made.text
    return person, made.json()
