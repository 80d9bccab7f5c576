"""The publication gate: what is withheld from the public, and what may be alerted, with reasons.

A plain function over plain data, so every decision can be re-derived and explained. The
reasons are stored with the incident and shown ("not alerted: 3 h old"). An incident held
back by a publication delay is withheld with one reason starting `DELAYED`, and released
by `housekeeping.release.release_due` once the delay has passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from townsquare import taxonomy
from townsquare.privacy.policy import Policy
from townsquare.taxonomy import Category

DELAYED = "delayed:"
"""How the reason of an incident held back only by the publication delay begins."""


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


@lru_cache(maxsize=64)
def call_type_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the policy's call-type words.

    A listed word or phrase matches whole words only ("ems" is not the start of "emsworth");
    a trailing `*` makes it a stem ("suicid*" matches "suicide" and "suicidal"). Spaces in a
    phrase match any run of spaces, dashes or slashes ("missing child" in "MISSING-CHILD").
    """
    if not words:
        return None
    alternatives = "|".join(_word_regex(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def _word_regex(word: str) -> str:
    stem = word.endswith("*")
    parts = word.rstrip("*").split()
    body = r"[\s/-]+".join(re.escape(part) for part in parts)
    return body + (r"\w*" if stem else r"(?!\w)")


_RESPONDER = r"(?:fire|ems|medics?|police|pd|fd|law|als|bls|ambulance)"
_RESPONSE_DESCRIPTOR = re.compile(
    rf"\(\s*{_RESPONDER}(?:\s*(?:&|/|\+|,|and)\s*{_RESPONDER})*(?:\s+response)?\s*\)"
    rf"|(?<!\w){_RESPONDER}(?:\s*(?:&|/|\+|and)\s*{_RESPONDER})+(?!\w)"
    rf"|(?<!\w)(?:1st|first|2nd|second|initial|{_RESPONDER})\s+response(?!\w)",
    re.IGNORECASE,
)
"""Who responds, not what happened: "(FIRE & EMS)", "FIRE/EMS", "1ST RESPONSE", "EMS RESPONSE"."""

INCIDENT_FAMILIES = ("fire", "traffic", "rescue", "safety")
"""Categories that name an incident on their own: on these, a response descriptor saying
that EMS goes too does not make the call medical. On any other category (a catch-all, an
assist, a crime) the descriptor is read like the rest of the call type: unsure, withhold."""


def call_type_without_responders(category: Category, original_type: str) -> str:
    """The call type the words are matched against: without its response descriptor when
    the call is mapped to a fire, traffic, rescue or safety category and something is left."""
    if not any(taxonomy.matches(category.code, family) for family in INCIDENT_FAMILIES):
        return original_type
    stripped = _RESPONSE_DESCRIPTOR.sub(" ", original_type)
    return stripped if re.search(r"[^\W\d_]{2}", stripped) else original_type


def call_type_word(policy: Policy, category: Category, original_type: str) -> str | None:
    """The policy's call-type word this call type says (the listed form), or None."""
    words = policy.withhold.call_type_words
    text = call_type_without_responders(category, original_type)
    pattern = call_type_pattern(words)
    if pattern is None or pattern.search(text) is None:
        return None
    return next(w for w in words if (one := call_type_pattern((w,))) and one.search(text))


def withheld_reasons(policy: Policy, category: Category, original_type: str) -> list[str]:
    """Why an incident of this category and call type is withheld; empty if it may be public."""
    rules = policy.withhold
    released = any(taxonomy.matches(category.code, code) for code in rules.release)
    label = category.label.lower()
    if not released and rules.sensitive_categories and category.sensitive:
        return [f"withheld: {label} is a sensitive call type"]
    if not released and any(taxonomy.matches(category.code, c) for c in rules.categories):
        return [f"withheld: {label} calls are withheld by policy"]
    pattern = call_type_pattern(rules.call_type_words)
    text = call_type_without_responders(category, original_type)
    match = pattern.search(text) if pattern else None
    if match is not None:
        return [f"withheld: the call type says {match[0].lower()!r}, withheld by policy"]
    return []


def publish_from(policy: Policy, occurred_at: datetime) -> datetime:
    """The earliest moment an incident that occurred at `occurred_at` may be public."""
    return occurred_at + timedelta(minutes=policy.publication.delay_minutes)


def decide(
    policy: Policy,
    category: Category,
    original_type: str,
    occurred_at: datetime,
    now: datetime,
    severity: int,
) -> Decision:
    """Apply `policy`: withhold what it names, hold back what is delayed, alert what matters."""
    reasons = withheld_reasons(policy, category, original_type)
    due = publish_from(policy, occurred_at)
    if not reasons and now < due:
        reasons = [f"{DELAYED} public from {due.isoformat()}"]
    visibility = "withheld" if reasons else "public"
    not_alerted = _not_alerted(policy, category, occurred_at, now, severity)
    if visibility != "public":
        not_alerted.insert(0, "not alerted: withheld from the public")
    if not_alerted:
        return Decision(visibility, tuple(reasons), False, tuple(not_alerted))
    age = describe_age(max(now - occurred_at, timedelta(0)))
    alertable = f"alertable: {age} old, affects the community, severity {severity}"
    return Decision(visibility, tuple(reasons), True, (alertable,))


def _not_alerted(
    policy: Policy, category: Category, occurred_at: datetime, now: datetime, severity: int
) -> list[str]:
    rules = policy.alerts
    found: list[str] = []
    age = now - occurred_at
    if age >= timedelta(minutes=rules.timely_minutes):
        found.append(f"not alerted: {describe_age(age)} old")
    if not category.community:
        found.append(
            f"not alerted: {category.label.lower()} does not affect the community at large"
        )
    if any(taxonomy.matches(category.code, code) for code in rules.catch_all_categories):
        found.append(f"not alerted: {category.label.lower()} is not a specific category")
    if severity < rules.min_severity:
        found.append(f"not alerted: severity {severity} is below {rules.min_severity}")
    return found
