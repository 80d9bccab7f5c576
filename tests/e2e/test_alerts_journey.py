"""Alerts as promised, from a fresh store with the demo defaults: a visitor watches an area by
push (the browser's own permission flow, the server's own VAPID key) and by e-mail (confirmed
through the mailed link); a curator sends a moderate incident as an alert, one the areas'
severity choice would have held for the digest; both channels get it now, and the desk says so.

Real things throughout: uvicorn serving `create_app`, a local SMTP server, a local push endpoint
that checks the VAPID signature and decrypts like a browser (headless Chromium cannot reach a
real push service, so the page's PushManager hands it that endpoint's subscription).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.alerts import HOME, add_incident, deliveries
from tests.support.browsing import axe_violations, overflow_px, plant_session
from tests.support.e2e import mailing_settings
from tests.support.push import PushInbox, push_endpoint
from tests.support.residents import Mailbox
from tests.support.server import serving
from tests.support.waiting import wait_for
from townsquare.db import make_engine, make_sessionmaker
from townsquare.migrations import runner

pytestmark = pytest.mark.e2e

ADDRESS = "resident@example.org"
RAW = ("Value error", "String should", "Input should", "url:", "address:")


@pytest.fixture
def push() -> Iterator[PushInbox]:
    """The browser's push endpoint."""
    with push_endpoint() as inbox:
        yield inbox


@pytest.fixture
def site(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[tuple[str, str]]:
    """A fresh store and the server on it: no VAPID or webhook settings, e-mail to the local
    SMTP server (the demo's console sender would not show the confirmation link)."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()
    settings = lambda site: mailing_settings(  # noqa: E731
        url, tmp_path, site, mailbox[1], alert_senders={"email": "smtp"}, relay_interval_s=0.05
    )
    with serving(settings) as base:
        yield base, url


def mails(box: Mailbox) -> list[EmailMessage]:
    """Every message the SMTP server got."""
    found = []
    for _, _, raw in list(box.messages):
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def body(mail: EmailMessage) -> str:
    """The plain text of a mail."""
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def watch(page: Page, channel: str, target: str = "") -> None:
    """Fill the form for a 1 km circle at HOME and submit it."""
    page.fill("#w-lat", str(HOME[0]))
    page.fill("#w-lon", str(HOME[1]))
    page.select_option("#w-channel", channel)
    if target:
        page.fill("#w-target", target)
    page.click("#watch-form button[type=submit]")


def test_push_and_mail_subscribers_get_a_curated_alert_now(
    browser: Browser,
    site: tuple[str, str],
    push: PushInbox,
    mailbox: tuple[Mailbox, int],
    artifacts: Path,
) -> None:
    base, url = site
    box = mailbox[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(push.page_script())
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{base}/alerts")
        watch(page, "webpush")
        expect(page.locator("#watch-status")).to_contain_text("Watching 1 km around")
        assert page.evaluate("Notification.permission") == "granted"
        server_key = httpx.get(f"{base}/api/v1/push/key").json()["public_key"]
        assert page.evaluate("window.__pushKey") == server_key  # subscribed with its key

        watch(page, "email", ADDRESS)
        expect(page.locator("#watch-status")).to_contain_text("Check the mailbox")
        wait_for(lambda: len(box.messages) == 1, what="the confirmation mail")
        link = re.search(r"https?://\S+/alerts/confirm/\S+", body(mails(box)[0]))
        assert link is not None
        page.goto(link.group(0))
        page.click("text=Confirm: send me these alerts")
        expect(page.locator("h1")).to_have_text("Alerts confirmed")

        page.goto(f"{base}/alerts")
        plans = page.locator(".watch-area .watch-plan")
        expect(plans).to_have_count(2)
        expect(plans.first.locator('[data-plan="now"]')).to_contain_text("severe to extreme")
        expect(plans.first.locator('[data-plan="digest"]')).to_contain_text(
            "In the digest, sent every hour: minor to moderate"
        )
        expect(page.locator("[data-browser-only]")).to_contain_text(
            "to stop an alert sent to your e-mail, use the link at the bottom of that e-mail"
        )

        # A moderate vehicle fire (severity 3): both areas hold it for the hourly digest.
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        try:
            incident_id = add_incident(factory, category="fire.vehicle")
            wait_for(
                lambda: [d.status for d in deliveries(factory)] == ["held", "held"],
                what="both deliveries held for the digest",
            )
            token = plant_session(url, "curator@example.org", ["moderator"])
            context.add_cookies([{"name": "ts_session", "value": token, "url": base}])
            desk = context.new_page()
            desk.goto(f"{base}/desk")
            item = desk.locator(f"#item-{incident_id}")
            item.locator('[data-action="alert"] summary').click()
            item.locator(f"#alert-reason-{incident_id}").fill("road blocked by the fire")
            item.locator('[data-action="alert"] button[type=submit]').click()
            expect(desk.locator("#desk-done")).to_contain_text(
                f"Sent as an alert: incident {incident_id} — sent now 2, held 0"
            )

            wait_for(lambda: len(push.shown) == 1, what="the push to reach the browser")
            wait_for(lambda: len(box.messages) == 2, what="the alert mail")
            statuses = sorted(d.status for d in deliveries(factory))
        finally:
            engine.dispose()
        assert statuses == ["sent", "sent"]
        assert push.problems == []
        assert push.signers == [server_key]
        assert push.shown[0]["incident_id"] == incident_id
        page.goto(f"{base}/alerts")
        expect(page.locator('.delivery-log tr[data-status="sent"]')).to_have_count(2)
        page.screenshot(path=str(artifacts / "alerts-journey-1280.png"), full_page=True)
        desk.screenshot(path=str(artifacts / "desk-sent-now.png"))
        alert_mail = mails(box)[1]
        stop = re.search(r"one click: (\S+)", body(alert_mail))
        assert stop is not None
        assert "/alerts/unsubscribe/" in stop.group(1)
        assert alert_mail["List-Unsubscribe"] == f"<{stop.group(1)}>"
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_refusals_are_plain_words_under_their_field(
    browser: Browser, site: tuple[str, str], width: int, artifacts: Path
) -> None:
    base, _ = site
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{base}/alerts")
        watch(page, "email", "not an address")
        error = page.locator("#w-target-error")
        expect(error).to_have_text(
            "This is not an e-mail address (it looks like name@example.org)."
        )
        expect(page.locator("#w-target")).to_have_attribute("aria-invalid", "true")

        watch(page, "webhook", "http://127.0.0.1:8080/hook")
        expect(error).to_contain_text(
            "127.0.0.1 is a private, loopback or otherwise non-public address"
        )
        expect(page.locator("#watch-status")).to_have_text(
            "Not saved: see the message under the field."
        )
        text = page.locator("main").inner_text()
        assert not [raw for raw in RAW if raw in text]
        assert page.locator(".watch-area").count() == 0  # nothing was saved
        assert axe_violations(page) == []
        assert overflow_px(page) == 0
        page.screenshot(path=str(artifacts / f"alerts-refused-{width}.png"), full_page=True)

        watch(page, "email", ADDRESS)
        expect(page.locator(".watch-area .watch-plan")).to_have_count(1)
        expect(error).to_be_hidden()
        assert axe_violations(page) == []
        assert overflow_px(page) == 0
        page.screenshot(path=str(artifacts / f"alerts-{width}.png"), full_page=True)
    finally:
        context.close()


def test_push_without_permission_says_how_to_allow_it(
    browser: Browser, site: tuple[str, str], push: PushInbox
) -> None:
    base, _ = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(push.page_script())
    context.add_init_script(
        "Notification.requestPermission = () => Promise.resolve('denied');"
        "Object.defineProperty(Notification, 'permission', {get: () => 'denied'});"
    )
    page = context.new_page()
    try:
        page.goto(f"{base}/alerts")
        watch(page, "webpush")
        expect(page.locator("#w-channel-error")).to_have_text(
            "Notifications are blocked for this site in this browser. Allow them in the "
            "browser's site settings, or pick e-mail or a webhook."
        )
        assert page.locator(".watch-area").count() == 0
        assert push.shown == []
    finally:
        context.close()
