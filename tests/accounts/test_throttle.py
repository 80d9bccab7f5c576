"""Throttle counters are kept only while they can still matter: retention deletes idle ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.accounts.models import SigninThrottle
from townsquare.accounts.throttle import hit
from townsquare.housekeeping.retention import run_retention

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_retention_deletes_counters_idle_for_a_day_and_keeps_those_still_counting(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        hit(session, "old address", 5, HOUR, NOW - timedelta(days=2))
        hit(session, "blocked address", 0, HOUR, NOW - timedelta(days=2))  # over at once
        hit(session, "fresh address", 5, HOUR, NOW - timedelta(minutes=5))
        row = session.get_one(SigninThrottle, "blocked address")
        row.blocked_until = NOW + HOUR  # a block that has not ended yet stays
        session.commit()

    report = run_retention(factory, now=NOW)

    assert report.deleted["throttle_counters"] == 1
    with factory() as session:
        kept = set(session.scalars(select(SigninThrottle.key)))
    assert kept == {"blocked address", "fresh address"}
