"""When the server sends the weekly digest itself: at a set weekday and hour, local to the area
(`time_zone`): 8 AM stays 8 AM across daylight-saving changes.

Every node looks every few minutes; the digest's own log (`weekly_digest`, one row per channel
and week) makes each mail leave once whichever node gets there first. A node that was down
at the hour sends on starting, up to a day late; later than that the week is left out rather
than summarised days after its end.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from townsquare.settings import Settings
from townsquare.weekly.digest import Report, send_weekly

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATCH_UP = timedelta(days=1)
CHECK_INTERVAL_S = 300.0


def due_end(now: datetime, day: str, hour: int, zone: str = "UTC") -> datetime | None:
    """The latest scheduled send time (weekday `day`, `hour` o'clock in `zone`) not after
    `now`, in UTC, if it passed less than CATCH_UP ago."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    date = local.date() - timedelta(days=(local.weekday() - DAYS.index(day)) % 7)
    at = datetime.combine(date, time(hour), tzinfo=tz)
    if at > now:
        at = datetime.combine(date - timedelta(days=7), time(hour), tzinfo=tz)
    return at.astimezone(UTC) if now - at < CATCH_UP else None


def send_due(factory: sessionmaker[Session], settings: Settings, now: datetime) -> Report | None:
    """Send this week's digest to every channel still without it, if it is due; else None."""
    if settings.weekly_digest_day == "off":
        return None
    end = due_end(now, settings.weekly_digest_day, settings.weekly_digest_hour, settings.time_zone)
    if end is None:
        return None
    report = send_weekly(factory, settings, end=end, now=now)
    if report.sent or report.failed:
        log.info("weekly digest", extra={"report": report.summary(dry_run=False)})
    return report
