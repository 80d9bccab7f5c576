"""The weekly summary page in a real browser: the area on the map, a click moves the centre."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.alerts import alert_settings
from tests.support.e2e import Watched
from tests.support.server import running
from tests.support.weekly import HOME, plant, week_ago
from townsquare.db import make_engine, make_sessionmaker, utcnow
from townsquare.platform import Platform

pytestmark = pytest.mark.e2e


def test_pick_an_area_on_the_map_and_read_its_week(
    watched: Watched, sqlite_template: Path, tmp_path: Path, artifacts: Path
) -> None:
    path = tmp_path / "townsquare.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = make_sessionmaker(engine)
    now = utcnow()
    plant(factory, "traffic.collision", week_ago(3, now))
    plant(factory, "traffic.collision", week_ago(0, now), count=2)
    plant(factory, "crime.burglary", week_ago(0, now), visibility="withheld")
    platform = Platform(alert_settings(tmp_path, tile_url=""), engine, factory)
    page = watched.page
    try:
        with running(platform) as base:
            page.goto(f"{base}/weekly?lat={HOME[0]}&lon={HOME[1]}&radius_m=1000")
            rows = page.locator("table[data-weekly] tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Traffic collision")
            expect(page.locator("#weekly-map path.search-area")).to_have_count(1)
            page.screenshot(path=str(artifacts / "weekly-page.png"))

            box = page.locator("#weekly-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5)
            moved = page.input_value("#wk-lon")
            assert float(moved) > HOME[1]  # east of the centre
            page.click("form[data-weekly-form] button[type=submit]")
            page.wait_for_url(lambda url: f"lon={moved}" in url)
            expect(page.locator("table[data-weekly]")).to_be_visible()
    finally:
        engine.dispose()
    assert watched.errors == []
    assert all(r.startswith(base) for r in watched.requests)  # no request leaves the site
