"""Watch areas in a real browser: subscribe to an area, see an incident arrive live, see the log."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.alerts import HOME, add_incident, alert_settings
from tests.support.e2e import Watched
from tests.support.server import running
from tests.support.webhooks import Receiver, serve_receiver
from townsquare.db import make_engine, make_sessionmaker
from townsquare.platform import Platform

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver."""
    yield from serve_receiver()


def test_subscribe_then_see_a_new_incident_live_and_its_delivery(
    watched: Watched, receiver: Receiver, sqlite_template: Path, tmp_path: Path, artifacts: Path
) -> None:
    path = tmp_path / "townsquare.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_sessionmaker(engine)
    platform = Platform(alert_settings(tmp_path), engine, factory)
    page = watched.page
    try:
        with running(platform) as base:
            page.goto(f"{base}/alerts?lat={HOME[0]}&lon={HOME[1]}")
            page.select_option("#w-channel", "webhook")
            page.fill("#w-target", receiver.url)
            page.click("#watch-form button[type=submit]")
            expect(page.locator("#watch-status")).to_contain_text("Watching 1 km around")
            expect(page.locator(".watch-area")).to_have_count(1)
            # The exact shape stays in this browser; the server keeps only the area's cells.
            kept = page.evaluate("JSON.parse(localStorage.getItem('townsquare.watch-areas'))")
            assert kept[0]["shape"] == {
                "type": "circle",
                "lat": HOME[0],
                "lon": HOME[1],
                "radius_m": 1000,
            }
            expect(page.locator(".watch-area h3")).to_contain_text("1 km around 47.6100")

            page.goto(f"{base}/?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000")
            expect(page.locator("#results")).to_be_visible()
            page.wait_for_timeout(500)  # let the page open its live stream
            incident_id = add_incident(factory)
            item = page.locator(f'#results li[data-incident="{incident_id}"]')
            expect(item).to_be_visible(timeout=15_000)  # arrived without a reload
            expect(page.locator("#live-status")).to_contain_text("New: Structure fire")
            page.screenshot(path=str(artifacts / "feed-live.png"))

            page.goto(f"{base}/alerts")
            expect(page.locator('.delivery-log tr[data-status="sent"]')).to_have_count(
                1, timeout=15_000
            )
            page.screenshot(path=str(artifacts / "alerts-page.png"))
            assert len(receiver.received) == 1
            assert receiver.received[0].json()["incident"]["id"] == incident_id
    finally:
        engine.dispose()
    assert watched.errors == []
