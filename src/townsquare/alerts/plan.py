"""What a watch area receives, in words: at once, in the digest, never; and why.

The alerts page shows this under each area, so no default decides in silence what waits
for the digest. The rules are `matching`'s: severity 5 goes at once always; a curator's
alert goes at once whatever the severity choices, to areas that asked for its category.
"""

from __future__ import annotations

from townsquare import taxonomy
from townsquare.alerts.matching import ALWAYS_AT_ONCE
from townsquare.alerts.schemas import AreaPlan, SubscriptionOut
from townsquare.settings import Settings
from townsquare.taxonomy import group_label

LEVELS = {1: "minor", 2: "low", 3: "moderate", 4: "severe", 5: "extreme"}


def _levels(low: int, high: int) -> str:
    if low == high:
        return f"{LEVELS[low]} (severity {low})"
    return f"{LEVELS[low]} to {LEVELS[high]} (severity {low} to {high})"


def every(seconds: float) -> str:
    if seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "every hour" if hours == 1 else f"every {hours} hours"
    if seconds >= 60:
        return f"every {round(seconds / 60)} minutes"
    return f"every {round(seconds)} seconds"


def groups() -> list[tuple[str, str]]:
    """The category groups an area may ask for (those with a public category), by name."""
    found = {
        code.split(".")[0]
        for code, c in taxonomy.categories().items()
        if c.community and not c.sensitive
    }
    return sorted(((g, group_label(g)) for g in found), key=lambda item: item[1])


def _about(codes: list[str]) -> str:
    if not codes:
        return "About: every category."
    names = []
    for code in codes:
        found = taxonomy.categories().get(code)
        names.append(found.label if found else group_label(code))
    return "About: " + ", ".join(names) + " only."


def with_plan(sub: SubscriptionOut, settings: Settings) -> SubscriptionOut:
    """The owner's view of an area with its plan under this server's settings."""
    found = describe(
        sub,
        digest_interval_s=settings.alert_digest_interval_s,
        rate_per_hour=settings.alert_rate_per_hour,
    )
    return sub.model_copy(update={"plan": found})


def describe(sub: SubscriptionOut, *, digest_interval_s: float, rate_per_hour: int) -> AreaPlan:
    """The plan of one area under the server's digest interval and hourly limit."""
    low, urgent = sub.min_severity, min(sub.urgent_severity, ALWAYS_AT_ONCE)
    first_now = max(low, urgent)
    now = f"Sent at once: {_levels(first_now, 5)}"
    now += f", up to {rate_per_hour} an hour (more go in the digest)."
    if first_now > low:
        digest = f"In the digest, sent {every(digest_interval_s)}: {_levels(low, first_now - 1)}."
    else:
        digest = "Nothing waits for the digest (except in quiet hours)."
    never = f"Not sent: {_levels(1, low - 1)}." if low > 1 else None
    quiet = None
    if sub.quiet_hours:
        q = sub.quiet_hours
        quiet = (
            f"Quiet hours {q.start}–{q.end} ({q.time_zone}): only extreme incidents go at "
            "once; the rest goes in the first digest after."
        )
    curated = (
        "An alert the curation team sends goes at once whatever its severity, if it is in a "
        "category this area asked for"
        + (" (in quiet hours, it waits for the digest)." if quiet else ".")
    )
    return AreaPlan(
        about=_about(sub.categories),
        now=now,
        digest=digest,
        never=never,
        quiet=quiet,
        curated=curated,
    )
