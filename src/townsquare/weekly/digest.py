"""The weekly e-mail digest: every confirmed e-mail channel gets its watch area's summary, once.

The area is the subscription's stored cover (its cells); each mail carries a one-click
unsubscribe link and the `List-Unsubscribe` headers.

Once per channel per ISO week (of the window's end, UTC): a `weekly_digest` row is claimed and
committed before the mail leaves, so running the command twice, or on two nodes at once, sends
nothing new. A mail that failed is tried again by the next run; one whose sending was cut off
(the row still says `sending`) is not, since it may have arrived: never twice beats always.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts.cells import cell_area
from townsquare.alerts.channels import SendError
from townsquare.alerts.channels.smtp import send_mail
from townsquare.alerts.links import add_unsubscribe_headers, unsubscribe_url
from townsquare.alerts.models import Channel, Subscription
from townsquare.alerts.service import stored_cells
from townsquare.db import transaction
from townsquare.settings import Settings
from townsquare.shapes import TooManyCells
from townsquare.weekly import service
from townsquare.weekly.mail import compose
from townsquare.weekly.models import WeeklyDigest
from townsquare.weekly.schemas import WeeklySummary

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One e-mail channel due this week, and its subscription (the watch area)."""

    channel_id: int
    subscription_id: int
    address: str


@dataclass
class Report:
    """What a run did: sent, failed, already sent this week; per channel, the week's total."""

    week: str
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    totals: dict[int, int] = field(default_factory=dict)

    def summary(self, dry_run: bool) -> str:
        """One line for the operator."""
        if dry_run:
            return f"weekly {self.week}: would send {len(self.totals)} summaries (dry run)"
        return (
            f"weekly {self.week}: sent {self.sent}, failed {self.failed}, "
            f"already sent {self.skipped}"
        )


def week_of(end: datetime) -> str:
    """The ISO week of `end` in UTC, e.g. 2026-W48: the once-a-week key."""
    year, week, _ = end.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def send_weekly(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    end: datetime,
    now: datetime,
    dry_run: bool = False,
) -> Report:
    """Mail the week ending at `end` to every e-mail channel that has not had it yet."""
    report = Report(week_of(end))
    recipients, report.skipped = _due(factory, report.week)
    for recipient in recipients:
        found = _summary(factory, recipient, end)
        if found is None:  # the watch area was deleted meanwhile
            continue
        sub, summary = found
        if dry_run:
            report.totals[recipient.channel_id] = summary.total.this_week
            continue
        digest_id = _claim(factory, recipient.channel_id, report.week, end, now)
        if digest_id is None:  # another run took it meanwhile
            report.skipped += 1
            continue
        report.totals[recipient.channel_id] = summary.total.this_week
        leave = unsubscribe_url(settings, recipient.channel_id, recipient.address)
        mail = compose(settings, sub, summary, unsubscribe=leave)
        add_unsubscribe_headers(mail, leave)  # one click, from the link alone (RFC 8058)
        mail["To"] = recipient.address
        mail["X-Townsquare-Weekly"] = str(digest_id)
        error = _deliver(settings, mail)
        _record(factory, digest_id, error, now)
        if error is None:
            report.sent += 1
        else:
            report.failed += 1
    return report


def _due(factory: sessionmaker[Session], week: str) -> tuple[list[Recipient], int]:
    """Active e-mail channels without this week's digest sent (or being sent), and how many had."""
    with factory() as session:
        done = set(
            session.scalars(
                select(WeeklyDigest.channel_id).where(
                    WeeklyDigest.week == week, WeeklyDigest.status != "failed"
                )
            )
        )
        rows = session.execute(
            select(Channel.id, Channel.subscription_id, Channel.target)
            .where(
                Channel.kind == "email",
                Channel.active.is_(True),
                Channel.confirmed_at.is_not(None),  # an unconfirmed address gets nothing
            )
            .order_by(Channel.id)
        ).all()
    due = [Recipient(c, s, str(t["address"])) for c, s, t in rows if c not in done]
    return due, len(rows) - len(due)


def _summary(
    factory: sessionmaker[Session], recipient: Recipient, end: datetime
) -> tuple[Subscription, WeeklySummary] | None:
    with factory() as session:
        sub = session.get(Subscription, recipient.subscription_id)
        found = stored_cells(session, recipient.subscription_id)
        if sub is None or not found:
            return None
        try:
            return sub, service.summarise(session, cell_area(found), end)
        except TooManyCells as exc:  # a cover stored before the shape rules: skipped, not hung
            log.warning("weekly: subscription %d skipped: %s", sub.id, exc.detail)
            return None


def _claim(
    factory: sessionmaker[Session], channel_id: int, week: str, end: datetime, now: datetime
) -> int | None:
    """The id of this week's row for the channel, now `sending`; None if it is not ours to send."""
    try:
        with transaction(factory) as session:
            row = session.scalar(
                select(WeeklyDigest).where(
                    WeeklyDigest.channel_id == channel_id, WeeklyDigest.week == week
                )
            )
            if row is None:
                row = WeeklyDigest(
                    channel_id=channel_id,
                    week=week,
                    window_end=end,
                    status="sending",
                    attempts=0,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                return row.id
            retried = session.execute(
                update(WeeklyDigest)
                .where(WeeklyDigest.id == row.id, WeeklyDigest.status == "failed")
                .values(status="sending", window_end=end)
            )
            return row.id if getattr(retried, "rowcount", 0) == 1 else None
    except IntegrityError:  # a concurrent run inserted the same (channel, week) first
        return None


def _deliver(settings: Settings, mail: EmailMessage) -> SendError | None:
    """Send the way the settings send alert mail (smtp, console, null: townsquare.mail says)."""
    try:
        send_mail(settings, mail)
    except SendError as exc:
        return exc
    return None


def _record(
    factory: sessionmaker[Session], digest_id: int, error: SendError | None, now: datetime
) -> None:
    with transaction(factory) as session:
        row = session.get_one(WeeklyDigest, digest_id)
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.status, row.last_error = "failed", error.detail[:1000]
