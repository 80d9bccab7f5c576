"""The weekly summary: what a week held in an area, next to the same weeks of three months."""

from __future__ import annotations

import math
import random
from statistics import fmean

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.weekly import END, FAR, HOME, WEEK, plant, plant_history, week_ago
from townsquare.alerts.index import PolygonArea
from townsquare.db import transaction
from townsquare.geo import haversine_m
from townsquare.weekly import service
from townsquare.weekly.schemas import CategoryWeek, WeeklySummary

AREA = service.public_area(HOME[0], HOME[1], 1000)


def summary(factory: sessionmaker[Session], area: object = AREA) -> WeeklySummary:
    """The summary of the week ending at END."""
    with factory() as session:
        return service.summarise(session, area, END)  # type: ignore[arg-type]


def row(found: WeeklySummary, category: str) -> CategoryWeek:
    """The row of one category."""
    rows = {r.category: r for r in found.categories}
    assert category in rows, list(rows)
    return rows[category]


def test_counts_this_week_by_category_in_the_area_only(factory: sessionmaker[Session]) -> None:
    plant_history(factory)
    plant(factory, "crime.burglary", week_ago(0), count=3)
    plant(factory, "traffic.collision", week_ago(0), closed=True)  # closed: it still happened
    plant(factory, "crime.burglary", week_ago(0), place=FAR, count=2)
    found = summary(factory)
    assert row(found, "crime.burglary").this_week == 3
    assert row(found, "crime.burglary").label == "Burglary"
    assert row(found, "traffic.collision").this_week == 1
    assert found.total.this_week == 4
    assert [r.category for r in found.categories] == ["crime.burglary", "traffic.collision"]
    assert (found.start, found.end) == (END - WEEK, END)


def test_withheld_removed_and_footage_requests_are_never_counted(
    factory: sessionmaker[Session],
) -> None:
    plant_history(factory)
    plant(factory, "crime.burglary", week_ago(0))
    for weeks in (0, 1, 5):
        plant(factory, "crime.burglary", week_ago(weeks), visibility="withheld", count=4)
        plant(factory, "crime.burglary", week_ago(weeks), visibility="removed", count=4)
        plant(factory, "sensitive.domestic", week_ago(weeks), visibility="withheld")
    plant(factory, "agency.footage_request", week_ago(0))
    found = summary(factory)
    burglary = row(found, "crime.burglary")
    assert (burglary.this_week, burglary.usual.max) == (1, 0)
    assert "sensitive.domestic" not in {r.category for r in found.categories}
    assert "agency.footage_request" not in {r.category for r in found.categories}
    assert found.total.this_week == 1
    assert "withheld" in found.note


def test_baseline_is_mean_min_max_of_the_13_previous_weeks(factory: sessionmaker[Session]) -> None:
    plant_history(factory)
    per_week = [2, 0, 1, 3, 1, 1, 2, 0, 4, 1, 2, 1, 1]  # weeks 1..13 before this one
    for weeks, n in enumerate(per_week, start=1):
        if n:
            plant(factory, "crime.theft", week_ago(weeks), count=n)
    plant(factory, "crime.theft", week_ago(14), count=9)  # before the baseline: not counted
    plant(factory, "crime.theft", week_ago(0), count=4)
    theft = row(summary(factory), "crime.theft")
    assert theft.usual.min == 0
    assert theft.usual.max == 4
    assert theft.usual.mean == round(fmean(per_week), 1) == 1.5
    assert theft.this_week == 4
    assert theft.comparison == "about usual"  # equal to the highest week is not "more"


def test_more_than_usual_only_above_the_range_and_fewer_only_below(
    factory: sessionmaker[Session],
) -> None:
    plant_history(factory)
    for weeks in range(1, 14):
        plant(factory, "crime.theft", week_ago(weeks), count=2 + weeks % 2)  # 2 or 3 a week
        plant(factory, "traffic.collision", week_ago(weeks), count=1 + weeks % 2)  # 1 or 2
        plant(factory, "fire.alarm", week_ago(weeks), count=2)
    plant(factory, "crime.theft", week_ago(0), count=4)
    plant(factory, "traffic.collision", week_ago(0), count=2)
    found = summary(factory)
    assert row(found, "crime.theft").comparison == "more than usual"
    assert row(found, "traffic.collision").comparison == "about usual"
    assert row(found, "fire.alarm").comparison == "fewer than usual"
    assert row(found, "fire.alarm").this_week == 0
    assert found.total.this_week == 6
    # Totals are per week (5 or 7), not the sum of each category's lowest and highest (4, 7).
    assert (found.total.usual.min, found.total.usual.max) == (5, 7)
    assert found.total.comparison == "about usual"


def test_weeks_before_the_record_began_are_left_out(factory: sessionmaker[Session]) -> None:
    plant(factory, "crime.theft", week_ago(2), count=3)
    plant(factory, "crime.theft", week_ago(0), count=2)
    found = summary(factory)
    assert found.baseline_weeks == 2  # the record begins in the middle of week 2
    theft = row(found, "crime.theft")
    assert (theft.usual.min, theft.usual.max, theft.usual.mean) == (0, 3, 1.5)


def test_an_empty_store_has_no_history(factory: sessionmaker[Session]) -> None:
    found = summary(factory)
    assert found.categories == []
    assert found.total.this_week == 0
    assert found.total.comparison == "no history yet"


def test_a_polygon_area_counts_only_inside_it(factory: sessionmaker[Session]) -> None:
    plant_history(factory)
    plant(factory, "crime.theft", week_ago(0), count=2)
    plant(factory, "crime.theft", week_ago(0), place=(HOME[0] + 0.02, HOME[1]))  # 2.2 km north
    west, east = HOME[1] - 0.01, HOME[1] + 0.01
    south, north = HOME[0] - 0.01, HOME[0] + 0.01
    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    found = summary(factory, PolygonArea((ring,)))
    assert row(found, "crime.theft").this_week == 2
    assert found.area.kind == "polygon"


@pytest.mark.parametrize("radius_m", [400, 1000, 2500, 5000])
def test_counts_agree_with_a_count_made_one_incident_at_a_time(
    factory: sessionmaker[Session], radius_m: float
) -> None:
    # The database counts cells wholly inside the circle and the rest are tested here: any
    # disagreement at a cell's edge or a week's first instant shows up against this count.
    rng = random.Random(radius_m)
    plant_history(factory)
    categories = ("fire.structure", "crime.burglary", "traffic.collision")
    expected: dict[str, list[int]] = {c: [0] * 14 for c in categories}
    with transaction(factory) as session:
        for _ in range(400):
            distance, bearing = 6_000 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = HOME[0] + distance * math.cos(bearing) / 111_320
            lon = HOME[1] + distance * math.sin(bearing) / (
                111_320 * math.cos(math.radians(HOME[0]))
            )
            week = rng.randrange(14)
            start = END - WEEK * (week + 1)  # a week's first instant belongs to it
            when = start if rng.random() < 0.2 else start + WEEK * rng.random()
            category = rng.choice(categories)
            row = factories.incident(
                session, lat=lat, lon=lon, occurred_at=when, category=category
            )  # stored at its public (coarsened) point, which is what is counted
            if haversine_m(HOME[0], HOME[1], row.lat, row.lon) <= radius_m:
                expected[category][week] += 1
    found = summary(factory, service.public_area(HOME[0], HOME[1], radius_m))
    assert found.baseline_weeks == 13
    rows = {r.category: r for r in found.categories}
    for category, weeks in expected.items():
        if not any(weeks):
            assert category not in rows
            continue
        got = rows[category]
        usual = (got.this_week, got.usual.min, got.usual.max, got.usual.mean)
        assert usual == (weeks[0], min(weeks[1:]), max(weeks[1:]), round(fmean(weeks[1:]), 1))
    assert found.total.this_week == sum(w[0] for w in expected.values())
