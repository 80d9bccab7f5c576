"""Shapes of the weekly summary: what a week held in an area, next to the weeks before it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MIN_RADIUS_M = 200.0
MAX_RADIUS_M = 5_000.0
BASELINE_WEEKS = 13
"""The same 7-day windows of the previous three months."""

Comparison = Literal["more than usual", "about usual", "fewer than usual", "no history yet"]


class Usual(BaseModel):
    """A count over the baseline weeks: mean, lowest and highest week."""

    mean: float = Field(description="mean per week, one decimal")
    min: int = Field(description="the lowest week")
    max: int = Field(description="the highest week")


class CategoryWeek(BaseModel):
    """One category's count this week and in the weeks before."""

    category: str = Field(description="taxonomy code")
    label: str
    this_week: int
    usual: Usual
    comparison: Comparison = Field(
        description="'more than usual' only above the highest baseline week, 'fewer than "
        "usual' only below the lowest"
    )


class AreaOut(BaseModel):
    """The area summarised: a circle, a polygon by its bounding circle, or a subscription's cover
    by its centroid and the radius of a circle of its size (the server keeps no shape)."""

    kind: Literal["circle", "polygon", "cover"]
    lat: float
    lon: float
    radius_m: float


class WeeklySummary(BaseModel):
    """Public incidents of one week in one area, by category, against the weeks before."""

    area: AreaOut
    start: datetime = Field(description="the week's first instant (included)")
    end: datetime = Field(description="the week's end (excluded)")
    baseline_weeks: int = Field(
        description="previous weeks compared with (fewer than 13 when the record is younger)"
    )
    categories: list[CategoryWeek] = Field(description="most frequent this week first")
    total: CategoryWeek = Field(description="every category together")
    note: str = Field(
        default="Only public incidents are counted: withheld and removed calls never are, "
        "and agency footage requests are not incidents."
    )
