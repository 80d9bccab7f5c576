"""Every page at a phone's width and a desktop's: nothing wider than the window, no serious or
critical axe-core violation, and the feed map drawing its icons, clusters and legend.

One server over the samples (the session's), one browser context per size with a visitor
signed in as resident, curator and agency officer at once, so each page is opened once a size.
With TOWNSQUARE_E2E_SHOTS set, every page is also saved whole to
tests/e2e/artifacts/phone-<page>-<size>.png (off by default: full-page shots of the long desk
and feed pages cost more than the checks).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.browsing import axe_violations, drawn_tiles, overflow_px, plant_session
from tests.support.e2e import LiveServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
ANONYMOUS = ("/", "/sign-in", "/sign-up", "/forgot-password", "/transparency")
SIGNED_IN = (
    "/incidents/{incident}",
    "/alerts",
    "/weekly",
    "/posts/new",
    "/posts/mine",
    "/account",
    "/account/access-log",
    "/desk",
    "/moderation",
    "/cameras",
    "/footage",
    "/agency",
)


@pytest.fixture(scope="module")
def cookie(live_server: LiveServer) -> str:
    """The session of one visitor holding every role a page asks for."""
    roles = ["resident", "moderator", "agency_officer"]
    return plant_session(live_server.database_url, "phone@example.org", roles)


@pytest.fixture(scope="module")
def incident(live_server: LiveServer) -> int:
    """An incident of the sample feed (the newest around the default place)."""
    seattle = {"lat": 47.6062, "lon": -122.3321, "radius_m": 25000}
    found = httpx.get(f"{live_server.url}/api/v1/incidents", params=seattle)
    return int(found.json()["features"][0]["id"])


@pytest.fixture(params=sorted(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, BrowserContext]]:
    """A browser context of one size (axe is injected inline, so the page's CSP is bypassed)."""
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        bypass_csp=True,
        timezone_id="America/Los_Angeles",
        locale="en-US",
    )
    yield request.param, context
    context.close()


def expect_the_feed_map(page: Page) -> None:
    """The sample's busy downtown: clusters and category icons, more points than the list's
    page, and the key; on a phone the menu opens and closes."""
    expect(page.locator("#results[data-mapped]")).to_have_count(1)
    mapped = int(page.locator("#results").get_attribute("data-mapped") or 0)
    assert mapped > page.locator("#results li[data-incident]").count()
    expect(page.locator("#map .map-marker--cluster").first).to_be_visible()
    expect(page.locator("#results .map-icon").first).to_be_visible()  # the list's icons too
    legend = page.locator("#legend")
    expect(legend.locator("summary")).to_be_visible()
    if page.viewport_size and page.viewport_size["width"] > 600:
        expect(page.locator("#map .map-icon").first).to_be_visible()  # some calls stand alone
    else:
        expect(page.get_by_role("link", name="Sign in")).to_be_hidden()
        page.locator(".menu-button").click()
        expect(page.get_by_role("link", name="Sign in")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_role("link", name="Sign in")).to_be_hidden()
        legend.locator("summary").click()
    expect(legend).to_contain_text("Resident post")


def check(page: Page, size: str, path: str, artifacts: Path) -> list[str]:
    """What is wrong with the page now open: overflow and axe violations, in words."""
    page.wait_for_load_state("load")
    if os.environ.get("TOWNSQUARE_E2E_SHOTS"):
        name = path.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "feed"
        page.screenshot(path=str(artifacts / f"phone-{name}-{size}.png"), full_page=True)
    if page.locator(".leaflet-container").count():  # a map: its streets are drawn
        wait_for(lambda: drawn_tiles(page), timeout=30, what=f"streets drawn on {path} {size}")
    problems = [f"{path} {size}: {v}" for v in axe_violations(page)]
    wider = overflow_px(page)
    if wider:
        problems.append(f"{path} {size}: {wider}px wider than the window")
    return problems


def test_every_page_fits_and_passes_axe(
    live_server: LiveServer,
    sized: tuple[str, BrowserContext],
    cookie: str,
    incident: int,
    artifacts: Path,
) -> None:
    size, context = sized
    page = context.new_page()
    problems: list[str] = []
    page.goto(live_server.url + "/")
    expect_the_feed_map(page)
    problems += check(page, size, "/", artifacts)
    for path in ANONYMOUS[1:]:
        page.goto(live_server.url + path)
        problems += check(page, size, path, artifacts)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": "ts_session", "value": cookie, "domain": host, "path": "/"}])
    for path in SIGNED_IN:
        page.goto(live_server.url + path.format(incident=incident))
        expect(page.locator("nav.topnav")).to_contain_text("Account")
        if path.startswith("/incidents/"):
            # Times in the reader's zone (the browser's: Los Angeles here), the zone named.
            occurred = page.locator(".facts time[data-local]").first
            expect(occurred).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2}, .* P[SD]T$"))
            expect(page.locator("#incident-map .map-marker")).to_be_in_viewport()
        problems += check(page, size, path, artifacts)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_menu_works_without_javascript(
    live_server: LiveServer, browser: Browser, size: str
) -> None:
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(live_server.url + "/alerts")
    sign_in = page.locator("nav.topnav").get_by_role("link", name="Sign in")
    if size == "phone":
        expect(sign_in).to_be_hidden()
        page.get_by_text("Menu", exact=True).click()
    expect(sign_in).to_be_visible()
    assert overflow_px(page) == 0
    context.close()
