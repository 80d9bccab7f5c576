"""The street basemap in a real browser: the server's own tiles drawn, attributed, nothing else.

Seattle's tiles were built by `townsquare tiles build` from the shipped Overpass extract; San
Francisco's are the shipped Protomaps archive. A drawn tile is a canvas with streets on it:
many colours, not the one background fill.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browsing import drawn_tiles
from tests.support.e2e import LiveServer, sign_in_on_page
from tests.support.residents import PASSWORD
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

CITIES = {
    "seattle": "/?lat=47.6097&lon=-122.3378&radius_m=1500",
    "sf": "/?lat=37.7793&lon=-122.4193&radius_m=1500",
}
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_feed_map_draws_streets_of_both_sample_cities(
    live_server: LiveServer, browser: Browser, artifacts: Path, size: str
) -> None:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        for city, path in CITIES.items():
            page.goto(live_server.url + path)
            wait_for(lambda: drawn_tiles(page), timeout=30, what=f"{city}'s streets drawn")
            attribution = page.locator("#map .leaflet-control-attribution")
            expect(attribution).to_be_visible()
            expect(attribution).to_contain_text("© OpenStreetMap contributors")
            page.screenshot(path=str(artifacts / f"basemap-{city}-{width}.png"))
    finally:
        context.close()


def test_pages_with_maps_ask_only_this_server(live_server: LiveServer, browser: Browser) -> None:
    """Feed, an incident, alerts, weekly and the report form: every request stays here."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    try:
        page.goto(live_server.url + CITIES["seattle"])
        incident = page.locator("#results li[data-incident] a").first.get_attribute("href")
        assert incident
        page.goto(live_server.url + "/sign-up")
        page.get_by_label("E-mail address").fill("maps@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
        page.goto(live_server.url + "/sign-in")
        sign_in_on_page(page, "maps@example.org")
        page.goto(live_server.url + "/alerts")  # no map, and nothing from elsewhere either
        expect(page.locator("main")).to_be_visible()
        for path in ("/", incident, "/weekly", "/posts/new"):
            page.goto(live_server.url + path)
            wait_for(lambda: drawn_tiles(page), timeout=30, what=f"streets drawn on {path}")
            expect(page.locator(".leaflet-control-attribution").first).to_contain_text(
                "© OpenStreetMap contributors"
            )
    finally:
        context.close()
    assert any("/tiles/seattle.pmtiles" in url for url in asked)
    assert [url for url in asked if not url.startswith(live_server.url + "/")] == []
