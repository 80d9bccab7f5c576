"""The weekly e-mail digest: each e-mail channel gets its own area's week, once, through SMTP."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.residents import Mailbox
from tests.support.store import STORE_SECRET
from tests.support.weekly import (
    END,
    FAR,
    HOME,
    WEEK,
    mail_settings,
    plant,
    plant_history,
    received,
    subscribe,
    week_ago,
)
from townsquare import i18n
from townsquare.alerts.models import Channel
from townsquare.cli import app
from townsquare.db import transaction, utcnow
from townsquare.geo import haversine_m
from townsquare.templating import local_text
from townsquare.weekly.digest import send_weekly
from townsquare.weekly.models import WeeklyDigest

WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.org/weekly"}


ZONE = "America/Los_Angeles"


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def planted_week(factory: sessionmaker[Session]) -> None:
    """3 burglaries and 5 withheld calls at HOME this week, 1 collision at FAR."""
    plant_history(factory)
    plant(factory, "crime.burglary", week_ago(0), count=3)
    plant(factory, "crime.burglary", week_ago(0), visibility="withheld", count=5)
    plant(factory, "crime.burglary", week_ago(0), visibility="removed", count=5)
    plant(factory, "traffic.collision", week_ago(0), place=FAR)


def test_each_email_channel_gets_its_own_areas_week(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    planted_week(factory)
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}, WEBHOOK])
    subscribe(factory, FAR, [{"kind": "email", "address": "far@example.org"}])
    report = send_weekly(factory, mail_settings(tmp_path, port), end=END, now=utcnow())
    assert (report.sent, report.failed, report.week) == (2, 0, "2026-W48")
    mails = received(box)
    assert sorted(mails) == ["far@example.org", "home@example.org"]  # not the webhook
    home = mails["home@example.org"]
    assert home["Subject"] == "This week in “Home”: 3 public incidents, more than usual"
    text, html = parts(home)
    assert "- Burglary: 3 (usually 0–0, mean 0.0): more than usual" in text
    assert "- All categories: 3 " in text
    assert "Traffic collision" not in text
    assert "withheld and removed calls never are" in text
    # The week in the area's zone (the site's: no quiet hours set one), the zone named.
    week = f"{local_text(END - timedelta(days=7), ZONE)} to {local_text(END, ZONE)}"
    assert week.endswith("PST")
    assert week in text
    assert week in html
    # The map link names the cover's centroid and size: the server has no centre to give.
    found = re.search(
        r"http://townsquare\.test/weekly\?lat=([\d.-]+)&lon=([\d.-]+)&radius_m=(\d+)", text
    )
    assert found, text
    lat, lon, radius = (float(v) for v in found.groups())
    assert haversine_m(lat, lon, *HOME) < 50
    assert 950 < radius < 1050
    assert found.group(0).replace("&", "&amp;") in html
    assert "<td>Burglary</td>" in html
    leave = home["List-Unsubscribe"].strip("<>")
    assert leave.startswith("http://townsquare.test/alerts/unsubscribe/")
    assert home["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert leave in text
    assert leave in html
    assert far_mail_differs(mails, leave)
    far_text, _ = parts(mails["far@example.org"])
    assert "- Traffic collision: 1 " in far_text
    assert "Burglary" not in far_text


def far_mail_differs(mails: dict[str, EmailMessage], leave: str) -> bool:
    """Each recipient's unsubscribe link is its own."""
    return bool(mails["far@example.org"]["List-Unsubscribe"].strip("<>") != leave)


def test_an_unconfirmed_address_gets_no_digest(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    planted_week(factory)
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}], confirmed=False)
    report = send_weekly(factory, mail_settings(tmp_path, port), end=END, now=utcnow())
    assert (report.sent, report.failed) == (0, 0)
    assert box.messages == []


def test_running_twice_in_a_week_sends_nothing_new(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    settings = mail_settings(tmp_path, port)
    planted_week(factory)
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}])
    assert send_weekly(factory, settings, end=END, now=utcnow()).sent == 1
    again = send_weekly(factory, settings, end=END, now=utcnow())
    later_same_week = send_weekly(factory, settings, end=END - WEEK / 7 * 2, now=utcnow())
    assert (again.sent, again.skipped) == (later_same_week.sent, later_same_week.skipped) == (0, 1)
    assert len(box.messages) == 1
    assert send_weekly(factory, settings, end=END + WEEK, now=utcnow()).sent == 1  # next week
    assert len(box.messages) == 2


def test_a_failed_mail_is_sent_by_the_next_run(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    planted_week(factory)
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}])
    unreachable = mail_settings(tmp_path, 1)  # nothing listens on port 1
    assert send_weekly(factory, unreachable, end=END, now=utcnow()).failed == 1
    with factory() as session:
        row = session.scalars(select(WeeklyDigest)).one()
        assert (row.status, row.attempts) == ("failed", 1)
    assert send_weekly(factory, mail_settings(tmp_path, port), end=END, now=utcnow()).sent == 1
    assert list(received(box)) == ["home@example.org"]


def test_inactive_and_non_email_channels_get_nothing_and_dry_run_sends_nothing(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    planted_week(factory)
    gone = subscribe(factory, HOME, [{"kind": "email", "address": "gone@example.org"}])
    subscribe(factory, HOME, [WEBHOOK])
    subscribe(factory, HOME, [{"kind": "email", "address": "kept@example.org"}])
    with transaction(factory) as session:
        channel = session.scalars(
            select(Channel).filter_by(subscription_id=gone.subscription.id)
        ).one()
        channel.active = False
    settings = mail_settings(tmp_path, port)
    dry = send_weekly(factory, settings, end=END, now=utcnow(), dry_run=True)
    assert list(dry.totals.values()) == [3]
    assert box.messages == []
    with factory() as session:
        assert session.scalars(select(WeeklyDigest)).all() == []
    assert send_weekly(factory, settings, end=END, now=utcnow()).sent == 1
    assert list(received(box)) == ["kept@example.org"]


def test_the_cli_sends_once_per_week(
    engine: Engine,
    factory: sessionmaker[Session],
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, port = mailbox
    planted_week(factory)
    subscribe(factory, HOME, [{"kind": "email", "address": "home@example.org"}])
    environment = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path),
        "ALERT_SENDERS": '{"email": "smtp"}',
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "LOG_JSON": "false",
        "SECRET_KEY": STORE_SECRET.decode(),  # the store's: its channels are sealed with it
    }
    for name, value in environment.items():
        monkeypatch.setenv(f"TOWNSQUARE_{name}", value)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        first = CliRunner().invoke(app, ["weekly", "send", "--end", "2026-11-28T12:00:00Z"])
        second = CliRunner().invoke(app, ["weekly", "send", "--end", "2026-11-28T12:00:00Z"])
    finally:  # the command installs its own log handler on CliRunner's stream
        root.handlers[:], root.level = handlers, level
    assert first.exit_code == 0, first.output
    assert "channel 1: 3 public incidents this week" in first.output
    assert "weekly 2026-W48: sent 1, failed 0, already sent 0" in first.output
    assert "weekly 2026-W48: sent 0, failed 0, already sent 1" in second.output
    assert list(received(box)) == ["home@example.org"]


def test_two_runs_at_once_send_each_mail_once(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    settings = mail_settings(tmp_path, port)
    planted_week(factory)
    for n in range(6):
        subscribe(factory, HOME, [{"kind": "email", "address": f"r{n}@example.org"}])
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda _: send_weekly(factory, settings, end=END, now=utcnow()), range(2))
        )
    assert sum(r.sent for r in runs) == 6
    assert sorted(received(box)) == [f"r{n}@example.org" for n in range(6)]


def test_a_subscriber_who_subscribed_in_spanish_gets_the_digest_in_spanish(
    factory: sessionmaker[Session], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    planted_week(factory)
    with i18n.speaking("es"):  # as when the alerts page's request came in Spanish
        subscribe(factory, HOME, [{"kind": "email", "address": "casa@example.org"}])
    subscribe(factory, FAR, [{"kind": "email", "address": "far@example.org"}])
    send_weekly(factory, mail_settings(tmp_path, port), end=END, now=utcnow())
    mails = received(box)
    home = mails["casa@example.org"]
    assert home["Subject"] == "Esta semana en “Home”: 3 incidentes públicos, más de lo habitual"
    text, html = parts(home)
    assert "- Robo con allanamiento: 3 (normalmente 0–0, media 0.0): más de lo habitual" in text
    assert "<td>Robo con allanamiento</td>" in html
    assert '<html lang="es">' in html
    assert mails["far@example.org"]["Subject"].startswith("This week in")
