"""The site in Spanish and in dark mode, as a browser shows it: the language follows the
browser and the switch, both themes keep axe-core's colour contrast clean, and each variant of
the feed is saved at a phone's width and a desktop's to tests/e2e/artifacts/ for a person to
look at."""

from __future__ import annotations

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
SEATTLE = {"lat": "47.6062", "lon": "-122.3321", "radius_m": "5000"}


@pytest.fixture(scope="module")
def incident(live_server: LiveServer) -> int:
    """An incident of the sample feed near downtown Seattle."""
    found = httpx.get(f"{live_server.url}/api/v1/incidents", params=SEATTLE)
    return int(found.json()["features"][0]["id"])


def streets_drawn(page: Page) -> None:
    """Wait until the map shows streets (most of its tiles drawn), for a shot worth looking at."""
    tiles = page.locator(".basemap-tiles canvas")
    wait_for(
        lambda: drawn_tiles(page) >= max(1, tiles.count() * 2 // 3),
        timeout=30,
        what="the map's streets drawn",
    )


def context_of(browser: Browser, size: str, locale: str, scheme: str) -> BrowserContext:
    """A browser of one size, language and colour scheme (CSP bypassed for axe)."""
    width, height = SIZES[size]
    return browser.new_context(
        viewport={"width": width, "height": height},
        bypass_csp=True,
        timezone_id="America/Los_Angeles",
        locale=locale,
        color_scheme=scheme,  # type: ignore[arg-type]
    )


@pytest.fixture
def spanish(browser: Browser) -> Iterator[Page]:
    """A desktop browser whose language is Spanish."""
    context = context_of(browser, "desktop", "es-ES", "light")
    yield context.new_page()
    context.close()


def test_a_spanish_browser_reads_the_site_in_spanish_and_can_switch_back(
    spanish: Page, live_server: LiveServer, incident: int
) -> None:
    page = spanish
    page.goto(f"{live_server.url}/?lat=47.6062&lon=-122.3321")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Incidentes de seguridad cercanos")
    expect(page.get_by_role("button", name="Mostrar incidentes")).to_be_visible()
    page.goto(f"{live_server.url}/incidents/{incident}")
    expect(page.get_by_text("Tipo de llamada")).to_be_visible()
    page.locator("a[data-language]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Call type")).to_be_visible()
    assert page.url.endswith(f"/incidents/{incident}")  # back on the same page
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety incidents nearby")


def test_search_box_narrows_the_list_live(spanish: Page, live_server: LiveServer) -> None:
    page = spanish
    page.goto(f"{live_server.url}/?lat=47.6062&lon=-122.3321&radius_m=5000")
    items = page.locator("#results li[data-incident]")
    expect(items.first).to_be_visible()
    where = items.first.locator(".incident-where").text_content() or ""
    street = where.split()[-2]  # "100 block of Pine St" -> "Pine"
    page.get_by_label("Buscar en la lista").fill(street)  # htmx, no submit
    expect(page).to_have_url(re.compile(rf"[?&]q={re.escape(street)}(&|$)"))
    expect(items.first).to_be_visible()
    for text in items.all_text_contents():
        assert street.casefold() in text.casefold()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_feed_in_each_theme_and_language_is_clean_and_fits(
    browser: Browser,
    live_server: LiveServer,
    incident: int,
    artifacts: Path,
    size: str,
    locale: str,
    scheme: str,
) -> None:
    context = context_of(browser, size, locale, scheme)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/?lat=47.6062&lon=-122.3321")
        expect(page.locator("#results li[data-incident]").first).to_be_visible()
        expect(page.locator("#results[data-mapped]")).to_have_count(1)
        lang = locale[:2]
        streets_drawn(page)
        page.screenshot(path=str(artifacts / f"feed-{lang}-{scheme}-{size}.png"))
        assert overflow_px(page) == 0
        assert axe_violations(page) == []
        page.goto(f"{live_server.url}/incidents/{incident}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        streets_drawn(page)
        page.screenshot(path=str(artifacts / f"incident-{lang}-{scheme}-{size}.png"))
        assert overflow_px(page) == 0
        assert axe_violations(page) == []
        page.goto(f"{live_server.url}/no-such-page")
        assert axe_violations(page) == []
    finally:
        context.close()


DARK_WALK = (
    "/sign-in",
    "/sign-up",
    "/transparency",
    "/alerts",
    "/weekly",
    "/posts/new",
    "/posts/mine",
    "/account",
    "/account/access-log",
    "/cameras",
    "/footage",
)


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_every_resident_page_keeps_its_contrast_in_dark_mode(
    browser: Browser, live_server: LiveServer, locale: str
) -> None:
    cookie = plant_session(live_server.database_url, f"dark-{locale}@example.org", ["resident"])
    context = context_of(browser, "phone", locale, "dark")
    context.add_cookies([{"name": "ts_session", "value": cookie, "url": live_server.url}])
    page = context.new_page()
    try:
        for path in DARK_WALK:
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("html")).to_have_attribute("lang", locale[:2])
            assert page.url.endswith(path), f"{path} sent us to {page.url}"
            assert axe_violations(page) == [], path
            assert overflow_px(page) == 0, path
    finally:
        context.close()
