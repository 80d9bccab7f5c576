"""E-mail watch areas: double opt-in, one-click unsubscribe (RFC 8058), no duplicates.

Through a real SMTP server on loopback and the app's own pages: an address gets only the
confirmation mail until it follows the link; after that, every alert carries the unsubscribe
headers and link, which stop the mail from the link alone (no account, no cookie).
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings, deliveries, run_worker
from tests.support.residents import Mailbox
from townsquare.alerts import optin
from townsquare.alerts.models import Channel, Subscription
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.platform import Platform
from townsquare.settings import Settings

ADDRESS = "resident@example.org"
AREA = {"type": "circle", "lat": 47.61, "lon": -122.33, "radius_m": 1000}
LINK = re.compile(r"http://townsquare\.test/alerts/(confirm|unsubscribe)/([\w.-]+)")


@pytest.fixture
def settings(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    """Alert mail through the local SMTP server; links from the configured public URL."""
    return alert_settings(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        alert_senders={"email": "smtp"},
        secret_key="test secret",
    )


@pytest.fixture
def platform(settings: Settings, engine: Engine, factory: sessionmaker[Session]) -> Platform:
    """A started platform; the test runs the relay and the delivery worker itself."""
    started = Platform(settings, engine, factory)
    started.start()
    return started


@pytest.fixture
def client(platform: Platform) -> TestClient:
    """The app, as a stranger's browser or mail client reaches it (no cookie, ever)."""
    return TestClient(create_app(platform=platform), base_url="http://evil.example")


def mails(box: Mailbox) -> list[EmailMessage]:
    """Every message the SMTP server got, in order."""
    found = []
    for _, _, raw in box.messages:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def text_of(mail: EmailMessage) -> str:
    """The plain-text body."""
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link(mail: EmailMessage, kind: str) -> str:
    """The path of the `kind` link in the mail's text (absolute, on the public URL)."""
    found = [m for m in LINK.finditer(text_of(mail)) if m.group(1) == kind]
    assert found, text_of(mail)
    return f"/alerts/{kind}/{found[-1].group(2)}"


def subscribe(client: TestClient, address: str = ADDRESS) -> dict[str, object]:
    """Subscribe `address` to the area through the API; the answer's JSON."""
    made = client.post(
        "/api/v1/subscriptions",
        json={"name": "Home", "area": AREA, "channels": [{"kind": "email", "address": address}]},
    )
    assert made.status_code in (200, 201), made.text
    body: dict[str, object] = made.json()
    return body


def alert(platform: Platform, settings: Settings) -> int:
    """A new incident in the area, matched and sent; its id."""
    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    run_worker(platform, settings)
    return incident_id


def test_unconfirmed_address_gets_only_the_confirmation_mail(
    client: TestClient, platform: Platform, settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    made = subscribe(client)
    assert made["subscription"]["channels"][0]["confirmed"] is False  # type: ignore[index]
    alert(platform, settings)
    got = mails(box)
    assert len(got) == 1, [m["Subject"] for m in got]
    assert got[0]["To"] == ADDRESS
    assert "Confirm" in got[0]["Subject"]
    assert link(got[0], "confirm").startswith("/alerts/confirm/")  # from the public URL
    assert "evil.example" not in text_of(got[0])
    assert deliveries(platform.factory) == []  # not even queued


def test_confirmed_address_gets_alerts_with_one_click_unsubscribe(
    client: TestClient, platform: Platform, settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    subscribe(client)
    confirm = link(mails(box)[0], "confirm")
    page = client.get(confirm)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200
    assert 'method="post"' in page.text
    alert(platform, settings)
    assert len(box.messages) == 1
    assert client.post(confirm).status_code == 200
    incident_id = alert(platform, settings)

    got = mails(box)
    assert len(got) == 2
    sent = got[1]
    assert sent["Subject"].startswith("Alert: Structure fire")
    assert f"http://townsquare.test/incidents/{incident_id}" in text_of(sent)
    leave = link(sent, "unsubscribe")
    assert sent["List-Unsubscribe"] == f"<http://townsquare.test{leave}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent["Date"] is not None

    # RFC 8058: the mail client POSTs the header's URL with this body, no cookie, no page.
    one_click = client.post(
        leave,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "Unsubscribed" in one_click.text
    alert(platform, settings)
    assert len(box.messages) == 2  # nothing more
    with platform.factory() as session:
        assert session.scalar(select(func.count()).select_from(Channel)) == 0
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    again = client.post(leave)
    assert again.status_code == 200
    assert "Already unsubscribed" in again.text


def test_unsubscribe_page_asks_before_acting_and_refuses_a_forged_link(
    client: TestClient, platform: Platform, settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    subscribe(client)
    client.post(link(mails(box)[0], "confirm"))
    alert(platform, settings)
    leave = link(mails(box)[1], "unsubscribe")
    assert 'method="post"' in client.get(leave).text
    channel_id = leave.rsplit("/", 1)[1].split(".")[0]
    forged = client.post(f"/alerts/unsubscribe/{channel_id}.{'0' * 32}")
    assert "Already unsubscribed" in forged.text  # names nothing: the MAC is wrong
    alert(platform, settings)
    assert len(box.messages) == 3  # still subscribed


def test_subscribing_the_same_address_and_area_twice_makes_one_subscription(
    client: TestClient, platform: Platform, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    first = subscribe(client, "Resident@Example.org")
    second = subscribe(client, "RESIDENT@example.org")
    assert "manage_token" in first
    assert second["status"] == "exists"
    assert "manage_token" not in second
    with platform.factory() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 1
        assert session.scalar(select(func.count()).select_from(Channel)) == 1
    got = mails(box)
    assert len(got) == 2  # the pending confirmation was mailed again, with a new link
    old, new = link(got[0], "confirm"), link(got[1], "confirm")
    assert old != new
    assert client.post(old).status_code == 404  # only the newest link works
    assert client.post(new).status_code == 200
    third = subscribe(client)
    assert third["status"] == "exists"
    assert len(box.messages) == 2  # confirmed: nothing to re-send
    other = subscribe(client, "neighbour@example.org")
    assert "manage_token" in other  # another address is another subscription


def test_confirmation_links_expire_and_the_address_is_forgotten(
    client: TestClient, platform: Platform, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    subscribe(client)
    confirm = link(mails(box)[0], "confirm")
    later = utcnow() + optin.CONFIRM_LIFETIME + timedelta(minutes=1)
    token = confirm.rsplit("/", 1)[1]
    assert optin.confirm(platform.factory, token, now=later) == "expired"
    assert optin.forget_unconfirmed(platform.factory, now=later) == 1
    with platform.factory() as session:
        assert session.scalar(select(func.count()).select_from(Channel)) == 0
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert client.post(confirm).status_code == 404


def test_confirmation_tokens_are_stored_hashed(
    client: TestClient, platform: Platform, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    subscribe(client)
    token = link(mails(box)[0], "confirm").rsplit("/", 1)[1]
    with platform.factory() as session:
        row = session.scalars(select(Channel)).one()
    assert row.confirm_token_hash is not None
    assert token not in row.confirm_token_hash
    assert row.confirm_expires_at is not None
