"""A curator works the desk with the keyboard: merge a resident post into a dispatch incident,
rewrite it, alert it, correct it; a webhook subscriber's delivery log shows alert and update.

Everything is real: uvicorn serving `create_app`, a local SMTP server for the account mail,
a local webhook receiver (private addresses allowed, as the alert tests allow them), Debian's
Chromium, and TOTP codes computed with pyotp for the moderator's two-factor sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from tests.support import factories
from tests.support.alerts import wait_until_settled
from tests.support.e2e import mailing_settings, sign_in_on_page
from tests.support.posts import HOME, draft
from tests.support.residents import PASSWORD, Mailbox
from tests.support.server import serving
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.accounts import grants
from townsquare.db import make_engine, make_sessionmaker, transaction, utcnow
from townsquare.incidents.models import Incident
from townsquare.migrations import runner
from townsquare.posts.models import Post
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

RESIDENT = "ada@example.org"
CURATOR = "cu@example.org"
POLL_TIMEOUT_MS = 15_000  # the desk polls its queue every 5 s


@dataclass(frozen=True)
class DeskServer:
    """The server, its store and the mailbox its account mail goes to."""

    url: str
    database_url: str
    box: Mailbox


@pytest.fixture
def desk_server(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[DeskServer]:
    """The whole app over an empty store, mailing through the local SMTP server."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()

    def settings_for(site: str) -> Settings:
        return mailing_settings(
            url, tmp_path, site, mailbox[1], webhook_allow_private=True, relay_interval_s=0.05
        )

    with serving(settings_for) as site:
        yield DeskServer(site, url, mailbox[0])


def signed_in(server: DeskServer, email: str) -> tuple[httpx.Client, str]:
    """An account made over the API (sign-up, the mailed link), signed in: client and CSRF."""
    client = httpx.Client(base_url=server.url)
    body = {"email": email, "password": PASSWORD}
    assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
    token = server.box.link(email, "/verify")
    assert client.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    signed = client.post("/api/v1/account/sign-in", json=body)
    assert signed.status_code == 200, signed.text
    return client, str(signed.json()["csrf_token"])


def make_curator(server: DeskServer) -> pyotp.TOTP:
    """A moderator as an operator grants the role, with two-factor set up over the API."""
    client, csrf = signed_in(server, CURATOR)
    engine = make_engine(server.database_url)
    with make_sessionmaker(engine)() as session:
        grants.grant_role(session, CURATOR, "moderator", actor_id=None)
    engine.dispose()
    headers = {"X-CSRF-Token": csrf}
    totp = pyotp.TOTP(client.post("/api/v1/account/totp", headers=headers).json()["secret"])
    confirm = {"code": totp.at(utcnow())}
    assert client.post("/api/v1/account/totp/confirm", json=confirm, headers=headers).is_success
    client.close()
    return totp


def add_dispatch(server: DeskServer) -> int:
    """A dispatch incident where the approved post shows (its public point, coarser than a
    dispatch one), 5 minutes old, not alerted by the gate."""
    engine = make_engine(server.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        post = session.scalars(select(Post)).one()
        shown = session.get_one(Incident, post.incident_id)
        row = factories.incident(
            session,
            lat=shown.lat,
            lon=shown.lon,
            occurred_at=utcnow() - timedelta(minutes=5),
            category="fire.structure",
        )
        row.title = row.original_type = "STRUCTURE FIRE RP JOHN SMITH"
        incident_id = row.id
    engine.dispose()
    return incident_id


def item(page: Page, incident_id: int) -> Locator:
    """The desk item of an incident."""
    return page.locator(f"li[data-item='{incident_id}']")


def test_curator_merges_rewrites_alerts_and_corrects_with_the_keyboard(
    desk_server: DeskServer, receiver: Receiver, browser: Browser, artifacts: Path
) -> None:
    server = desk_server
    # A subscriber watches the place with a webhook (the public API, its manage token).
    area = {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000}
    channels = [{"kind": "webhook", "url": receiver.url}]
    body = {"area": area, "channels": channels, "urgent_severity": 1}
    made = httpx.post(f"{server.url}/api/v1/subscriptions", json=body)
    assert made.status_code == 201, made.text
    subscription_id = made.json()["subscription"]["id"]
    manage = {"Authorization": f"Bearer {made.json()['manage_token']}"}

    # A resident's report, pending review.
    ada, ada_csrf = signed_in(server, RESIDENT)
    posted = ada.post(
        "/api/v1/posts",
        json=draft(title="Smoke and flames from a garage"),
        headers={"X-CSRF-Token": ada_csrf},
    )
    assert posted.status_code == 201, posted.text
    ada.close()

    # The curator signs in with a code; the desk opens on an empty queue.
    totp = make_curator(server)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.url}/desk")
    sign_in_on_page(page, CURATOR)
    page.get_by_label("Code", exact=True).fill(totp.at(utcnow(), counter_offset=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Curation desk")).to_be_visible()
    expect(page.locator("nav.topnav").get_by_role("link", name="Desk")).to_be_visible()
    expect(page.get_by_text("Nothing entering the feed.")).to_be_visible()

    # Another tab approves the post; a dispatch call arrives. The open desk shows both live.
    other = context.new_page()
    other.goto(f"{server.url}/moderation")
    other.locator("li[data-post]").get_by_role("button", name="Approve").click()
    expect(other.locator("li[id^='done-'] .state")).to_have_text("Published")
    other.close()
    dispatch = add_dispatch(server)
    resident_item = page.locator("li[data-item]").filter(has_text="Smoke and flames from a garage")
    expect(resident_item).to_be_visible(timeout=POLL_TIMEOUT_MS)
    expect(item(page, dispatch)).to_be_visible(timeout=POLL_TIMEOUT_MS)
    resident_id = int(resident_item.get_attribute("data-item") or 0)
    expect(resident_item.locator("[data-provenance]")).to_have_text("resident, unverified")
    nearby = resident_item.locator(f"[data-nearby='{dispatch}']")
    expect(nearby).to_contain_text("Merge into this", timeout=POLL_TIMEOUT_MS)
    expect(resident_item.locator("[data-waited]")).to_contain_text("waiting")
    dispatch_item = item(page, dispatch)
    expect(dispatch_item.locator("[data-gate-alert]")).to_contain_text("not alerted: test")

    # The shortcuts' help: ? shows it, Esc hides it.
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    expect(page.locator("#desk-help")).to_be_visible()
    page.screenshot(path=str(artifacts / "desk_shortcuts.png"), full_page=True)
    page.keyboard.press("Escape")
    expect(page.locator("#desk-help")).to_be_hidden()

    # j/k select; m opens the merge form, the nearby dispatch call already filled in.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(resident_item).to_have_class(re.compile(r"desk-item--selected"))
    expect(resident_item).to_be_focused()
    page.keyboard.press("m")
    into = resident_item.get_by_label("Into incident")
    expect(into).to_be_focused()
    expect(into).to_have_value(str(dispatch))
    page.keyboard.press("Tab")
    page.keyboard.type("the same fire, reported by a neighbour")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        f"Merged: incident {resident_id} into {dispatch}"
    )
    expect(page.locator(f"li[data-item='{resident_id}']")).to_have_count(0)
    expect(dispatch_item).to_contain_text(f"Merged or linked here: #{resident_id}")
    expect(dispatch_item).to_have_class(re.compile(r"desk-item--selected"))

    # r: rewrite in plain language (the name after "RP" would be scrubbed anyway).
    page.keyboard.press("r")
    title = dispatch_item.get_by_label("Title", exact=True)
    expect(title).to_be_focused()
    page.keyboard.type("Garage fire on the block")
    page.keyboard.press("Tab")
    page.keyboard.type("Firefighters are at a garage fire; smoke drifts north.")
    page.keyboard.press("Tab")
    page.keyboard.type("plain language")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(f"Rewritten: incident {dispatch}")
    expect(dispatch_item.locator(".desk-title")).to_contain_text("Garage fire on the block")

    # x opens the retraction; Esc closes it and gives the focus back to the item.
    page.keyboard.press("x")
    retract = dispatch_item.locator("details[data-action='retract']")
    expect(retract.get_by_label("Reason (audited)")).to_be_focused()
    page.keyboard.press("Escape")
    expect(retract).not_to_have_attribute("open", "")
    expect(dispatch_item).to_be_focused()

    # a: send as an alert; the subscriber's webhook gets it.
    page.keyboard.press("a")
    reason = dispatch_item.locator("details[data-action='alert']").get_by_label("Reason (audited)")
    expect(reason).to_be_focused()
    page.keyboard.type("smoke over the school next door")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        f"Sent as an alert: incident {dispatch}"
    )
    expect(dispatch_item.locator("[data-gate-alert]")).to_contain_text(
        "alerted by curation: smoke over the school next door"
    )
    wait_for(lambda: len(receiver.received) == 1, timeout=20, what="the alert webhook")
    alert = receiver.received[0].json()
    assert alert["type"] == "alert"
    assert alert["incident"]["properties"]["title"] == "Garage fire on the block"

    # c: correct the title; everyone alerted gets the update.
    page.keyboard.press("c")
    expect(dispatch_item.get_by_label("Corrected title")).to_be_focused()
    page.keyboard.type("Garage fire, under control")
    page.keyboard.press("Tab")  # severity
    page.keyboard.press("Tab")  # status
    page.keyboard.press("Tab")  # reason
    page.keyboard.type("units report it under control")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        f"Correction sent: incident {dispatch}"
    )
    expect(dispatch_item.locator(".desk-title")).to_contain_text("Garage fire, under control")
    wait_for(lambda: len(receiver.received) == 2, timeout=20, what="the update webhook")
    update = receiver.received[1].json()
    assert update["type"] == "update"
    assert update["incident"]["properties"]["title"] == "Garage fire, under control"
    page.screenshot(path=str(artifacts / "desk_corrected.png"), full_page=True)

    # The subscriber's delivery log (newest first): the alert, then the correction, both sent.
    log_url = f"{server.url}/api/v1/subscriptions/{subscription_id}/deliveries"

    def logged() -> list[tuple[int | None, str, str]]:
        rows = httpx.get(log_url, headers=manage).json()
        return [(d["incident_id"], d["kind"], d["status"]) for d in reversed(rows)]

    wait_for(
        lambda: [s for _, _, s in logged()] == ["sent", "sent"],
        timeout=20,
        what="both deliveries logged as sent",
    )
    assert logged() == [(dispatch, "alert", "sent"), (dispatch, "update", "sent")]
    engine = make_engine(server.database_url)
    try:  # every delivery made is sent: no request can follow
        wait_until_settled(make_sessionmaker(engine))
    finally:
        engine.dispose()
    assert len(receiver.received) == 2  # exactly once each

    # A reader follows the alert's link, without an account, and marks it inaccurate.
    reader = browser.new_context(viewport={"width": 420, "height": 860})
    reading = reader.new_page()
    reading.goto(alert["url"])
    feedback = reading.locator("#feedback")
    expect(feedback.get_by_role("heading")).to_have_text("Was this alert right?")
    feedback.get_by_role("button", name="Inaccurate").click()
    expect(reading.get_by_role("status")).to_contain_text("you marked this alert inaccurate")
    expect(feedback.get_by_role("button", name="Inaccurate")).to_have_attribute(
        "aria-pressed", "true"
    )
    reader.close()
    # The desk shows the mark on the item and in its quality figures per category.
    expect(dispatch_item.locator("[data-marks]")).to_contain_text(
        "0 not useful, 1 inaccurate", timeout=POLL_TIMEOUT_MS
    )
    page.reload()
    page.locator("#desk-quality > summary").click()
    category = page.locator("tr[data-quality='fire.structure']")
    expect(category.locator("[data-alerts]")).to_have_text("1")
    expect(category.locator("[data-inaccurate]")).to_contain_text("100%")
    page.screenshot(path=str(artifacts / "desk_quality.png"), full_page=True)
    away = [u for u in requests if not u.startswith((server.url, "data:", "blob:"))]
    assert away == []
    assert errors == []
    context.close()
