"""The weekly summary over the bundled Seattle sample, checked against a direct count."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare import geo
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import MAPPINGS_DIR, load_source_config

DOWNTOWN = (47.6062, -122.3321)
RADIUS_M = 5000


def test_a_seattle_week_matches_a_direct_count(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    config = load_source_config(MAPPINGS_DIR / "seattle_fire_911.toml")
    service.ingest(factory, config, now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    with factory() as session:
        newest = session.scalar(select(func.max(Incident.occurred_at)))
        assert newest is not None
        end = newest + timedelta(seconds=1)
        rows = session.execute(
            select(Incident.category, Incident.lat, Incident.lon).where(
                Incident.visibility == "public",
                Incident.occurred_at >= end - timedelta(days=7),
                Incident.occurred_at < end,
            )
        ).all()
    expected = Counter(
        category
        for category, lat, lon in rows
        if geo.haversine_m(DOWNTOWN[0], DOWNTOWN[1], lat, lon) <= RADIUS_M
    )
    params = {"lat": DOWNTOWN[0], "lon": DOWNTOWN[1], "radius_m": RADIUS_M, "end": end.isoformat()}
    body = client.get("/api/v1/weekly", params=params).json()
    assert body["total"]["this_week"] == sum(expected.values()) > 0
    found = {r["category"]: r["this_week"] for r in body["categories"] if r["this_week"]}
    assert found == dict(expected)
