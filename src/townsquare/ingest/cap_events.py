"""What a CAP alert says in our terms: its `event` as a category, its urgency, severity and
certainty as our severity (1..5).

An alert the sender calls Extreme or Severe, Immediate or Expected, Observed or Likely is
what CAP means by "act now": it becomes severity 5, which the alert gate sends at once
whatever the digest, quiet hours or rate limit (alerts.matching.ALWAYS_AT_ONCE). Other
alerts keep their CAP severity on our scale; Past or Unlikely ones drop to 1.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from townsquare.ingest.config import SourceConfig

TOP = 5
LEVELS = {"extreme": 4, "severe": 4, "moderate": 3, "minor": 2}
ACT_NOW = (
    frozenset({"extreme", "severe"}),
    frozenset({"immediate", "expected"}),
    frozenset({"observed", "likely", "very likely"}),  # "Very Likely": CAP 1.0
)


@cache
def event_categories() -> dict[str, str]:
    """CAP event name -> taxonomy code (cap_events.toml, read once)."""
    text = resources.files("townsquare").joinpath("ingest", "cap_events.toml").read_text("utf-8")
    events: dict[str, str] = tomllib.loads(text)["events"]
    return events


CAP_SUMMARY = ("headline", "description")
"""The columns a CAP alert's public summary is made of, unless its source names others."""
SUFFIXES = (" warning", " watch", " advisory", " statement")
"""A trailing word the table's base event may be sent with ("Bushfire Advisory")."""


def event_key(event: str) -> str:
    """An event name as compared: case-folded, runs of whitespace as one space."""
    return " ".join(event.split()).casefold()


def folded(categories: dict[str, str]) -> dict[str, str]:
    """The table keyed by `event_key`, for `category_of` (built once per source)."""
    return {event_key(name): code for name, code in categories.items()}


def category_of(table: dict[str, str], event: str) -> str | None:
    """The code of a CAP `event` however it is cased or spaced ("SEVERE  THUNDERSTORM") in a
    `folded` table; a name it lacks ending in Warning/Watch/Advisory/Statement takes its
    base event's ("Bushfire Advisory": "Bushfire")."""
    key = event_key(event)
    found = table.get(key)
    if found is None:
        base = next((key.removesuffix(s) for s in SUFFIXES if key.endswith(s)), None)
        found = table.get(base) if base else None
    return found


def level(urgency: str, severity: str, certainty: str) -> int | None:
    """Our severity for CAP's three values; None when the sender said nothing usable."""
    said = (severity.strip().casefold(), urgency.strip().casefold(), certainty.strip().casefold())
    if all(value in allowed for value, allowed in zip(said, ACT_NOW, strict=True)):
        return TOP
    if said[1] == "past" or said[2] == "unlikely":
        return 1
    return LEVELS.get(said[0])


def reads_cap(kind: str, push_format: str | None) -> bool:
    """True for a source whose records are CAP alerts (kind cap, or pushed CAP)."""
    return kind == "cap" or push_format == "cap"


def default_categories(config: SourceConfig) -> dict[str, str]:
    """The event table for a source reading CAP (its own [categories] go over it), else {}."""
    push = config.push.format if config.push is not None else None
    return event_categories() if reads_cap(config.kind, push) else {}
