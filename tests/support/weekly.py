"""Weekly summaries: incidents planted in known weeks around a home, digest subscriptions, mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.residents import Mailbox
from townsquare.alerts import optin
from townsquare.alerts import service as alerts
from townsquare.alerts.models import Channel
from townsquare.alerts.schemas import SubscriptionCreated, SubscriptionIn
from townsquare.db import transaction, utcnow
from townsquare.settings import Settings

HOME = (47.6100, -122.3300)
FAR = (47.6400, -122.3300)  # about 3.3 km north: outside a 1 km circle around HOME
END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
METRES_PER_DEGREE_LAT = 111_320


def week_ago(weeks: int, end: datetime = END) -> datetime:
    """A moment in the middle of the 7-day window `weeks` weeks before the one ending at `end`."""
    return end - WEEK * weeks - timedelta(days=3, hours=5)


def plant(
    factory: sessionmaker[Session],
    category: str,
    when: datetime,
    *,
    place: tuple[float, float] = HOME,
    visibility: str = "public",
    closed: bool = False,
    count: int = 1,
) -> list[int]:
    """`count` dispatch incidents of `category` at `place`; returns their ids."""
    ids = []
    with transaction(factory) as session:
        for _ in range(count):
            row = factories.incident(
                session,
                lat=place[0],
                lon=place[1],
                occurred_at=when,
                category=category,
                visibility=visibility,
            )
            if closed:
                row.status, row.closed_at = "closed", when + timedelta(hours=1)
            ids.append(row.id)
    return ids


def plant_history(factory: sessionmaker[Session], end: datetime = END) -> None:
    """An incident far away 14 weeks before `end`: the record reaches back past the baseline."""
    plant(factory, "fire.alarm", end - WEEK * 14 - timedelta(days=1), place=(47.0, -121.0))


def subscribe(
    factory: sessionmaker[Session],
    place: tuple[float, float],
    channels: list[dict[str, Any]],
    *,
    confirmed: bool = True,
) -> SubscriptionCreated:
    """A 1 km watch area at `place` with `channels`, its addresses confirmed unless told not.

    The confirmation goes through `optin.confirm` with a token `optin.renew` hands out, as the
    mailed link's would be (tests/alerts/test_optin.py follows the mailed link itself).
    """
    data = SubscriptionIn.model_validate(
        {
            "name": "Home",
            "area": {"type": "circle", "lat": place[0], "lon": place[1], "radius_m": 1000},
            "channels": channels,
        }
    )
    quiet = Settings(alert_senders={"email": "null"})
    made = alerts.create_subscription(factory, data, actor="test", now=utcnow(), settings=quiet)
    assert isinstance(made, SubscriptionCreated)
    if confirmed:
        with transaction(factory) as session:
            rows = session.scalars(
                select(Channel).filter_by(subscription_id=made.subscription.id, kind="email")
            )
            tokens = [optin.renew(row, utcnow())[1] for row in rows]
        for token in tokens:
            assert optin.confirm(factory, token, now=utcnow()) == "confirmed"
    return made


def mail_settings(tmp_path: Path, port: int) -> Settings:
    """Settings sending e-mail through the local SMTP server."""
    return Settings(
        data_dir=tmp_path,
        alert_senders={"email": "smtp"},
        smtp_host="127.0.0.1",
        smtp_port=port,
        public_url="http://townsquare.test",
    )


def received(box: Mailbox) -> dict[str, EmailMessage]:
    """The messages the SMTP server got, by recipient."""
    found = {}
    for _, rcpt, raw in box.messages:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        found[rcpt[0]] = message
    assert len(found) == len(box.messages), "a recipient got two mails"
    return found
