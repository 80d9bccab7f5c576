"""What the curation desk shows and takes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from townsquare.feedback.schemas import Marks
from townsquare.privacy.types import ScrubbedText

ACTIONS = (
    "rewrite",
    "categorize",
    "link",
    "merge",
    "withhold",
    "publish",
    "alert",
    "retract",
    "correct",
)


class Gate(BaseModel):
    """The publication gate's decision as stored with the incident, with its reasons."""

    visibility: str
    visibility_reasons: list[str]
    alertable: bool
    alert_reasons: list[str]


class Corroboration(BaseModel):
    """Another public item nearby (public points within 300 m, 30 minutes), or one a resident
    post was matched with on its exact point when published."""

    id: int
    origin: str
    category: str
    distance_m: float = Field(description="between the public points")
    minutes_apart: float
    exact_match: bool = Field(
        default=False,
        description="a post matched with this dispatch item on its exact (private) point",
    )


class DeskDecision(BaseModel):
    """A curator's action on the item (from the audit log)."""

    action: str
    curator_id: int | None
    reason: str
    at: datetime


class DeskItem(BaseModel):
    """One item of the desk queue."""

    id: int
    origin: str
    provenance: str
    agency: str | None
    source: str | None = Field(description="slug of the dispatch source, if any")
    category: str
    severity: int
    status: str
    title: ScrubbedText
    summary: ScrubbedText
    occurred_at: datetime
    published_at: datetime
    gate: Gate
    corroborating: list[Corroboration]
    linked: list[int] = Field(description="duplicates merged or linked into this item")
    waited_s: int = Field(description="published until first decided (or until now)")
    decided: DeskDecision | None = Field(description="the first curator decision, if any")
    decisions: list[DeskDecision]
    marks: Marks = Field(description="readers who marked the alert not useful or inaccurate")


class DeskAction(BaseModel):
    """A curator's action; the reason is audited. Other fields as the action needs them."""

    reason: str = Field(min_length=3, max_length=2000)
    title: str | None = Field(default=None, min_length=3, max_length=300)
    summary: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, max_length=64)
    severity: int | None = Field(default=None, ge=1, le=5)
    status: str | None = Field(default=None, pattern="^(active|closed)$")
    into: int | None = Field(default=None, description="the primary, for link and merge")
