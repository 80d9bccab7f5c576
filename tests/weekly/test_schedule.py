"""The server's own housekeeping: the weekly digest at its weekday and hour (UTC), once per
channel however many times the server looks, and the retention job at start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.residents import Mailbox
from tests.support.waiting import wait_for
from tests.support.weekly import HOME, mail_settings, plant, received, subscribe
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.platform import Platform
from townsquare.privacy.models import RetentionRun
from townsquare.weekly import schedule
from townsquare.weekly.digest import week_of
from townsquare.weekly.models import WeeklyDigest

MONDAY_8 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MONDAY_8, MONDAY_8),
        (MONDAY_8 + timedelta(hours=23, minutes=59), MONDAY_8),  # a node started late
        (MONDAY_8 + timedelta(days=1), None),  # too late: that week is left out
        (MONDAY_8 - timedelta(minutes=1), None),  # last Monday's is 7 days old
        (MONDAY_8 + timedelta(days=7), MONDAY_8 + timedelta(days=7)),
    ],
)
def test_the_digest_is_due_from_its_hour_for_a_day(
    now: datetime, expected: datetime | None
) -> None:
    assert schedule.due_end(now, "mon", 8) == expected


def test_the_due_time_is_read_in_utc_and_any_weekday() -> None:
    pacific = MONDAY_8.astimezone(datetime.fromisoformat("2026-11-30T00:00-08:00").tzinfo)
    assert schedule.due_end(pacific, "mon", 8) == MONDAY_8  # 00:00 in Seattle is 08:00 UTC
    sunday_late = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
    assert schedule.due_end(sunday_late, "sun", 20) == datetime(2026, 12, 6, 20, tzinfo=UTC)
    assert schedule.due_end(sunday_late, "sat", 20) is None


def test_the_server_sends_the_digest_once_at_its_hour(
    engine: Engine,
    factory: sessionmaker[Session],
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    box, port = mailbox
    now = utcnow()
    plant(factory, "crime.burglary", now - timedelta(days=2))
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}])
    url = SecretStr(engine.url.render_as_string(hide_password=False))
    settings = mail_settings(tmp_path, port).model_copy(
        update={
            "database_url": url,
            "weekly_digest_day": schedule.DAYS[now.weekday()],
            "weekly_digest_hour": now.hour,  # due since the top of this hour
            "time_zone": "UTC",
        }
    )
    with TestClient(create_app(platform=Platform(settings, engine, factory))):
        wait_for(lambda: received(box), timeout=60, what="the server to mail the due digest")
    mails = received(box)
    assert list(mails) == ["home@example.org"]
    assert "Burglary" in mails["home@example.org"].get_body(("plain",)).get_content()
    due = schedule.due_end(now, settings.weekly_digest_day, settings.weekly_digest_hour)
    assert due is not None
    with factory() as session:
        rows = session.scalars(select(WeeklyDigest)).all()
    assert [(r.status, r.week) for r in rows] == [("sent", week_of(due))]

    again = schedule.send_due(factory, settings, utcnow())  # a restart, or a second node
    assert again is not None
    assert (again.sent, again.skipped) == (0, 1)
    assert len(box.messages) == 1


def test_no_digest_leaves_outside_its_day(
    engine: Engine, factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    now = utcnow()
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}])
    settings = mail_settings(tmp_path, port).model_copy(
        update={"weekly_digest_day": schedule.DAYS[(now.weekday() + 3) % 7]}
    )
    assert schedule.send_due(factory, settings, now) is None
    off = settings.model_copy(update={"weekly_digest_day": "off"})
    assert schedule.send_due(factory, off, now) is None
    assert received(box) == {}


def test_the_server_runs_retention_at_start(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = mail_settings(tmp_path, 25).model_copy(update={"retention_interval_s": 3600})

    def runs() -> int:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(RetentionRun)) or 0

    with TestClient(create_app(platform=Platform(settings, engine, factory))):
        wait_for(runs, timeout=30, what="the server's retention run at start")
    assert runs() == 1


def test_the_hour_is_the_areas_own_across_daylight_saving() -> None:
    winter = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # Monday 9:30 AM in Seattle (PST)
    assert schedule.due_end(winter, "mon", 8, "America/Los_Angeles") == datetime(
        2026, 12, 7, 16, tzinfo=UTC
    )
    summer = datetime(2026, 7, 6, 15, 30, tzinfo=UTC)  # Monday 8:30 AM in Seattle (PDT)
    assert schedule.due_end(summer, "mon", 8, "America/Los_Angeles") == datetime(
        2026, 7, 6, 15, tzinfo=UTC
    )
