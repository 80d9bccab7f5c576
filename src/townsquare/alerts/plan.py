"""What a watch area receives, in words: at once, in the digest, never; and why.

The alerts page shows this under each area, so no default decides in silence what waits
for the digest. The rules are `matching`'s: severity 5 goes at once always; a curator's
alert goes at once whatever the severity choices, to areas that asked for its category.
"""

from __future__ import annotations

from townsquare import taxonomy
from townsquare.alerts.matching import ALWAYS_AT_ONCE
from townsquare.alerts.schemas import AreaPlan, SubscriptionOut
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.settings import Settings
from townsquare.taxonomy import group_label

LEVELS = {1: N_("minor"), 2: N_("low"), 3: N_("moderate"), 4: N_("severe"), 5: N_("extreme")}


def _levels(low: int, high: int) -> str:
    if low == high:
        return _("{level} (severity {n})").format(level=_(LEVELS[low]), n=low)
    return _("{low} to {high} (severity {n} to {m})").format(
        low=_(LEVELS[low]), high=_(LEVELS[high]), n=low, m=high
    )


def every(seconds: float) -> str:
    """How often the digest goes, in words of the reader's language ("every 2 hours")."""
    if seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return _("every hour") if hours == 1 else _("every {n} hours").format(n=hours)
    if seconds >= 60:
        minutes = round(seconds / 60)
        return _("every minute") if minutes == 1 else _("every {n} minutes").format(n=minutes)
    count = round(seconds)
    return _("every second") if count == 1 else _("every {n} seconds").format(n=count)


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
        return _("About: every category.")
    names = []
    for code in codes:
        found = taxonomy.categories().get(code)
        names.append(_(found.label) if found else _(group_label(code)))
    return _("About: {names} only.").format(names=", ".join(names))


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
    now = _("Sent at once: {levels}, up to {n} an hour (more go in the digest).").format(
        levels=_levels(first_now, 5), n=rate_per_hour
    )
    if first_now > low:
        digest = _("In the digest, sent {every}: {levels}.").format(
            every=every(digest_interval_s), levels=_levels(low, first_now - 1)
        )
    else:
        digest = _("Nothing waits for the digest (except in quiet hours).")
    never = _("Not sent: {levels}.").format(levels=_levels(1, low - 1)) if low > 1 else None
    quiet = None
    if sub.quiet_hours:
        q = sub.quiet_hours
        quiet = _(
            "Quiet hours {start}–{end} ({zone}): only extreme incidents go at once; the rest "
            "goes in the first digest after."
        ).format(start=q.start, end=q.end, zone=q.time_zone)
    if quiet:
        curated = _(
            "An alert the curation team sends goes at once whatever its severity, if it is in a "
            "category this area asked for (in quiet hours, it waits for the digest)."
        )
    else:
        curated = _(
            "An alert the curation team sends goes at once whatever its severity, if it is in a "
            "category this area asked for."
        )
    return AreaPlan(
        about=_about(sub.categories),
        now=now,
        digest=digest,
        never=never,
        quiet=quiet,
        curated=curated,
    )
