"""What readers send about an alert, and the quality figures the desk shows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["not_useful", "inaccurate"]
VERDICTS: tuple[Verdict, ...] = ("not_useful", "inaccurate")


class FeedbackIn(BaseModel):
    """A reader's mark on an alert."""

    verdict: Verdict


class FeedbackOut(BaseModel):
    """The reader's one vote on this alert, as it now stands."""

    incident_id: int
    verdict: Verdict
    changed: bool = Field(description="false when the same verdict was already recorded")


class Marks(BaseModel):
    """How many readers marked an alert each way."""

    not_useful: int = 0
    inaccurate: int = 0


class QualityRow(BaseModel):
    """Alerts of one source or one category, and how readers and curators met them."""

    key: str = Field(description="source slug or taxonomy code; 'all' for the totals")
    label: str
    alerts: int = Field(description="incidents sent as alerts (by the gate or a curator)")
    marked_not_useful: int = Field(description="alerts at least one reader marked not useful")
    marked_inaccurate: int = Field(description="alerts at least one reader marked inaccurate")
    share_not_useful: float | None = Field(description="marked_not_useful / alerts")
    share_inaccurate: float | None = Field(description="marked_inaccurate / alerts")
    entered: int = Field(description="incidents that entered the feed in the period")
    decided: int = Field(description="of those, incidents a curator acted on")
    median_decision_s: int | None = Field(
        description="median seconds from ingestion (entering the feed) to the first decision"
    )


class Quality(BaseModel):
    """The desk's quality figures for a period, per source and per category."""

    since: datetime
    until: datetime
    totals: QualityRow
    by_source: list[QualityRow]
    by_category: list[QualityRow]
