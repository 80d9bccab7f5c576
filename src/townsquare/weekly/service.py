"""The weekly summary: public incidents of one week in an area, against the 13 weeks before.

Base rates, not fear counts: each category's count this week is shown next to the lowest,
highest and mean count of the same 7-day window in each of the previous 13 weeks, and is
called "more than usual" only above the highest of them. Only public incidents count (the
filter of the public feed); closed ones do, since they happened. The database counts the H3
cells wholly inside the area; the exact area test runs here for the cells on its edge. A
subscription's area is its stored cover (cells only): the weekly mail counts those cells.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import fmean
from typing import Literal

from h3.api import basic_int as h3i
from sqlalchemy import case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from townsquare import geo, shapes, taxonomy
from townsquare.alerts.cells import centroid
from townsquare.alerts.index import Area, CellArea, CircleArea
from townsquare.errors import InvalidParameter
from townsquare.incidents.models import Incident
from townsquare.weekly.schemas import (
    BASELINE_WEEKS,
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    AreaOut,
    CategoryWeek,
    Comparison,
    Usual,
    WeeklySummary,
)

WEEK = timedelta(days=7)
NOT_INCIDENTS = ("agency.footage_request",)
"""Feed items that are not incidents: a footage request is an agency asking, not an event."""
TOTAL = "total"


def public_area(lat: float, lon: float, radius_m: float) -> CircleArea:
    """The circle a visitor asked for, within the bounds a neighbourhood summary makes sense."""
    if not -90 <= lat <= 90:
        raise InvalidParameter("lat", f"{lat} is outside [-90, 90]")
    if not -180 <= lon <= 180:
        raise InvalidParameter("lon", f"{lon} is outside [-180, 180]")
    if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        raise InvalidParameter("radius_m", f"must be in [{MIN_RADIUS_M:g}, {MAX_RADIUS_M:g}]")
    return CircleArea(lat, lon, radius_m)


def summarise(session: Session, area: Area, end: datetime) -> WeeklySummary:
    """The summary of the 7 days before `end` in `area`."""
    weeks = _weekly_counts(session, area, end)
    covered = _covered_weeks(session, end)
    rows = [_row(code, counts, covered) for code, counts in weeks.items() if code != TOTAL]
    rows = [r for r in rows if r.this_week or r.usual.max]
    rows.sort(key=lambda r: (-r.this_week, -r.usual.mean, r.label))
    return WeeklySummary(
        area=_shown(area),
        start=end - WEEK,
        end=end,
        baseline_weeks=covered,
        categories=rows,
        total=_row(TOTAL, weeks[TOTAL], covered),
    )


def _shown(area: Area) -> AreaOut:
    """The area as the summary names it: a subscription's cover by its centroid and size."""
    if isinstance(area, CellArea):
        lat, lon, radius = centroid(area.cells)
        return AreaOut(kind="cover", lat=lat, lon=lon, radius_m=radius)
    circle = area if isinstance(area, CircleArea) else area.bounding_circle()
    kind: Literal["circle", "polygon"] = "circle" if circle is area else "polygon"
    return AreaOut(kind=kind, lat=circle.lat, lon=circle.lon, radius_m=circle.radius_m)


def _split(area: Area) -> tuple[InstrumentedAttribute[int], set[int], list[int]]:
    """The H3 column to select on, its cells wholly in the area, and its cells to test.

    A subscription's cover is its own answer: its cells at resolution 9 or coarser are
    counted whole (their resolution-9 descendants), finer ones are tested row by row.
    """
    if isinstance(area, CellArea):
        expanded = sum(7 ** (9 - ((cell >> 52) & 0xF)) for cell in area.cells)
        shapes.spend_cells(expanded, "the watch area")  # a stored legacy cover may be huge
        whole: set[int] = set()
        edge: set[int] = set()
        for cell in area.cells:
            res = (cell >> 52) & 0xF
            if res <= 9:
                whole.update(h3i.cell_to_children(cell, 9))
            else:
                edge.add(h3i.cell_to_parent(cell, 9))
        return Incident.h3_r9, whole, sorted(edge)
    circle = area if isinstance(area, CircleArea) else area.bounding_circle()
    resolution = 9 if circle.radius_m <= 1_000 else 7
    column = Incident.h3_r9 if resolution == 9 else Incident.h3_r7
    centre = geo.Point(circle.lat, circle.lon)
    reach = circle.radius_m + 2 * h3i.average_hexagon_edge_length(resolution, "m")
    walked = math.pi * reach**2 / h3i.average_hexagon_area(resolution, "m^2")
    shapes.spend_cells(int(walked), "the area")
    cells = geo.disk_cells(centre, circle.radius_m, resolution)
    whole = geo.cells_within(centre, circle.radius_m, cells) if circle is area else set()
    return column, whole, [c for c in cells if c not in whole]


def _weekly_counts(session: Session, area: Area, end: datetime) -> dict[str, list[int]]:
    """Counts per category and per week back from `end` (index 0: this week), plus the total.

    Cells wholly inside the area are counted by the database (GROUP BY category and week);
    only the incidents of the cells across its edge are read here for the exact test.
    """
    column, whole, edge = _split(area)
    since = end - WEEK * (BASELINE_WEEKS + 1)
    shown = (
        Incident.visibility == "public",
        Incident.category.not_in(NOT_INCIDENTS),
        Incident.occurred_at >= since,
        Incident.occurred_at < end,
    )
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * (BASELINE_WEEKS + 1))
    counts[TOTAL]  # present even when the area is empty
    if whole:
        week = case(
            *((Incident.occurred_at >= end - WEEK * (k + 1), k) for k in range(BASELINE_WEEKS)),
            else_=BASELINE_WEEKS,
        )
        for category, k, n in session.execute(
            select(Incident.category, week, func.count())
            .where(*shown, column.in_(sorted(whole)))
            .group_by(Incident.category, week)
        ):
            counts[category][k] += n
            counts[TOTAL][k] += n
    if edge:
        rows = session.execute(
            select(Incident.category, Incident.lat, Incident.lon, Incident.occurred_at).where(
                *shown, column.in_(edge)
            )
        )
        for category, lat, lon, occurred_at in rows:
            if area.contains(lat, lon):
                k = -((occurred_at - end) // WEEK) - 1  # week k is [end - (k+1)W, end - kW)
                counts[category][k] += 1
                counts[TOTAL][k] += 1
    return counts


def _covered_weeks(session: Session, end: datetime) -> int:
    """How many baseline weeks the record reaches into: weeks before its first incident are not
    zero, they are unknown, and counting them would make any week look "more than usual"."""
    first = session.scalar(
        select(func.min(Incident.occurred_at)).where(Incident.visibility == "public")
    )
    if first is None:
        return 0
    return sum(1 for k in range(1, BASELINE_WEEKS + 1) if end - WEEK * k > first)


def _row(code: str, counts: Sequence[int], covered: int) -> CategoryWeek:
    baseline = counts[1 : covered + 1]
    usual = (
        Usual(mean=round(fmean(baseline), 1), min=min(baseline), max=max(baseline))
        if baseline
        else Usual(mean=0.0, min=0, max=0)
    )
    return CategoryWeek(
        category=code,
        label="All categories" if code == TOTAL else _label(code),
        this_week=counts[0],
        usual=usual,
        comparison=compare(counts[0], usual, covered),
    )


def _label(code: str) -> str:
    known = taxonomy.categories().get(code)
    return known.label if known else code


def compare(count: int, usual: Usual, covered: int) -> Comparison:
    """Plain words: "more" only above the highest baseline week, "fewer" only below the lowest."""
    if covered == 0:
        return "no history yet"
    if count > usual.max:
        return "more than usual"
    if count < usual.min:
        return "fewer than usual"
    return "about usual"
