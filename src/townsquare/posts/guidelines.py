"""Community guidelines as plain functions: what a post must say, and why it is refused.

A description of a person must say what they did and give two descriptors other than race
or ethnicity (a description by race alone is refused). A "suspicious person" report must
answer whether it could be a delivery, a solicitor, a utility worker or a neighbour; if so,
it goes out as a non-alert FYI. A post about something over an hour old is published
without an alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from townsquare import taxonomy

OLD_AFTER = timedelta(hours=1)
FUTURE_SLACK = timedelta(minutes=5)
BENIGN = ("delivery", "solicitor", "utility", "neighbour")
ANSWERS = (*BENIGN, "none")
RACE_WORDS = frozenset(
    [
        "black",
        "white",
        "asian",
        "hispanic",
        "latino",
        "latina",
        "latinx",
        "arab",
        "african",
        "american",
        "caucasian",
        "mexican",
        "indian",
        "middle",
        "eastern",
        "native",
        "indigenous",
        "islander",
        "pacific",
        "chinese",
        "korean",
        "japanese",
        "somali",
        "filipino",
        "vietnamese",
        "brown",
        "colored",
        "coloured",
        "ethnic",
        "race",
        "racial",
        "mixed",
        "biracial",
        "dark-skinned",
        "light-skinned",
        "skin",
        "tone",
        "complexion",
    ]
)
PERSON_WORDS = frozenset(
    ["man", "woman", "male", "female", "guy", "person", "people", "kid", "teen", "boy", "girl"]
)
_WORD = re.compile(r"[a-z-]+")
POSTABLE_GROUPS = ("crime", "fire", "safety", "traffic", "animal", "civil", "police", "rescue")


@dataclass(frozen=True, slots=True)
class Check:
    """One guideline finding: a stable code and the reason a person reads."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Person:
    """What the author says about a person in the post."""

    action: str = ""
    descriptors: tuple[str, ...] = ()
    suspicious: bool = False
    could_be: str | None = None


@dataclass(slots=True)
class Outcome:
    """What the guidelines decided: refusals, flags for the moderators, the FYI and alert."""

    refusals: list[Check] = field(default_factory=list)
    flags: list[Check] = field(default_factory=list)
    fyi: bool = False
    alertable: bool = True
    alert_reasons: list[str] = field(default_factory=list)


def is_race_only(descriptor: str) -> bool:
    """True when a descriptor says nothing but race, ethnicity or skin (plus 'man', 'woman')."""
    words = set(_WORD.findall(descriptor.lower()))
    return bool(words & RACE_WORDS) and not (words - RACE_WORDS - PERSON_WORDS)


def _person(person: Person, outcome: Outcome) -> None:
    kept = [d for d in person.descriptors if d.strip() and not is_race_only(d)]
    raced = [d for d in person.descriptors if d.strip() and is_race_only(d)]
    if raced and not kept:
        outcome.refusals.append(
            Check(
                "race_only",
                "A description by race or ethnicity alone cannot be posted: describe clothing, "
                "height, build, hair, a vehicle, or what stands out.",
            )
        )
    elif len(kept) < 2:
        outcome.refusals.append(
            Check(
                "descriptors",
                "Give at least two descriptors other than race or ethnicity (clothing, height, "
                "build, hair, a vehicle).",
            )
        )
    if not person.action.strip():
        outcome.refusals.append(
            Check("action", "Say what the person did: being somewhere is not a reason to post.")
        )
    if raced:
        outcome.flags.append(Check("mentions_race", "The description mentions race."))
    if person.suspicious:
        if person.could_be not in ANSWERS:
            outcome.refusals.append(
                Check(
                    "could_be",
                    "Could it be a delivery, a solicitor, a utility worker or a neighbour?",
                )
            )
        elif person.could_be in BENIGN:
            outcome.fyi = True
            outcome.alertable = False
            outcome.alert_reasons.append(f"FYI: could be a {person.could_be}; never alerted")


def check(
    category: str,
    title: str,
    description: str,
    occurred_at: datetime,
    person: Person | None,
    *,
    now: datetime,
) -> Outcome:
    """Apply every guideline to a draft post."""
    outcome = Outcome()
    known = taxonomy.categories()
    if category not in known or known[category].sensitive:
        outcome.refusals.append(Check("category", "Choose one of the offered categories."))
    elif not category.startswith(POSTABLE_GROUPS):
        outcome.refusals.append(Check("category", "This category is not open to posts."))
    if not title.strip() or not description.strip():
        outcome.refusals.append(Check("text", "A title and a description are required."))
    if occurred_at > now + FUTURE_SLACK:
        outcome.refusals.append(Check("time", "The time it happened cannot be in the future."))
    elif now - occurred_at > OLD_AFTER:
        outcome.alertable = False
        outcome.alert_reasons.append("over an hour old: published without alert")
        outcome.flags.append(Check("old", "Over an hour old."))
    if person is not None:
        _person(person, outcome)
    text_words = set(_WORD.findall(f"{title} {description}".lower()))
    if person is None and text_words & RACE_WORDS and text_words & PERSON_WORDS:
        outcome.flags.append(
            Check("mentions_race", "The text may describe a person by race; check it.")
        )
    return outcome
