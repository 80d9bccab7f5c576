"""The publication gate: what is withheld from the public, and what may be alerted, with reasons.

A plain function over plain data so every decision can be re-derived and explained.
The full, TOML-declared policy engine replaces the defaults here in its own issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from townsquare.taxonomy import Category

TIMELY_FOR = timedelta(minutes=60)
ALERT_MIN_SEVERITY = 3


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an incident is public and whether it may be alerted, each with its reasons."""

    visibility: str
    visibility_reasons: tuple[str, ...]
    alertable: bool
    alertable_reasons: tuple[str, ...]


def describe_age(age: timedelta) -> str:
    """A short human age such as '45 min' or '3 h' or '2 d'."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def decide(category: Category, occurred_at: datetime, now: datetime, severity: int) -> Decision:
    """Apply the default policy: withhold sensitive types; alert only timely community events."""
    visibility_reasons: list[str] = []
    if category.sensitive:
        visibility_reasons.append(f"withheld: {category.label.lower()} is a sensitive call type")
    visibility = "withheld" if visibility_reasons else "public"

    not_alerted: list[str] = []
    if visibility != "public":
        not_alerted.append("not alerted: withheld from the public")
    age = now - occurred_at
    if age >= TIMELY_FOR:
        not_alerted.append(f"not alerted: {describe_age(age)} old")
    if not category.community:
        not_alerted.append(
            f"not alerted: {category.label.lower()} does not affect the community at large"
        )
    if severity < ALERT_MIN_SEVERITY:
        not_alerted.append(f"not alerted: severity {severity} is below {ALERT_MIN_SEVERITY}")
    alertable = not not_alerted
    reasons = (
        tuple(not_alerted)
        if not_alerted
        else (
            f"alertable: {describe_age(max(age, timedelta(0)))} old, affects the community, "
            f"severity {severity}",
        )
    )
    return Decision(visibility, tuple(visibility_reasons), alertable, reasons)
