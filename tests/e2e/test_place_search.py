"""The place search box in a real browser: type a corner of each sample city, choose the
suggestion with the keyboard, and the feed's map moves there; the place then travels."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from pydantic import SecretStr

from tests.support.places import metres
from tests.support.server import serving
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e
CORNERS = [
    ("3rd Ave & Pike", "3rd Avenue & Pike Street", (47.6097652, -122.3378196)),
    ("Market St & Van Ness", "Market Street & Van Ness Avenue", (37.775026, -122.4193403)),
    (
        "SW Broadway & SW Morrison",
        "Southwest Broadway & Southwest Morrison Street",
        (45.5193574, -122.6796145),
    ),
]
SIZES = [(390, 844), (1280, 900)]
NEAR_ME = (47.6205, -122.3493)


@pytest.fixture(scope="module")
def site(
    sqlite_template: Path, place_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("place-search")
    shutil.copy(sqlite_template, folder / "townsquare.db")
    url = SecretStr(f"sqlite:///{folder / 'townsquare.db'}")
    settings = Settings(database_url=url, data_dir=folder, places_index=place_index, tile_url="")
    with serving(lambda _site: settings) as base:
        yield base


def _centre(page: Page) -> tuple[float, float]:
    centre = page.evaluate(
        "() => { const c = window.townsquareMaps()[0].getCenter(); return [c.lat, c.lng]; }"
    )
    return centre[0], centre[1]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_typing_a_corner_moves_the_feed_map_there(
    browser: Browser, site: str, width: int, height: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        geolocation={"latitude": NEAR_ME[0], "longitude": NEAR_ME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(site + "/")
        box = page.get_by_role("combobox", name="Find a street, corner or place")
        for typed, name, point in CORNERS:
            box.fill("")
            box.press_sequentially(typed, delay=20)
            option = page.get_by_role("option").first
            expect(option).to_contain_text(name)
            expect(box).to_have_attribute("aria-expanded", "true")
            box.press("ArrowDown")
            expect(option).to_have_attribute("aria-selected", "true")
            box.press("Enter")
            expect(box).to_have_attribute("aria-expanded", "false")
            page.wait_for_function(
                "([lat, lon]) => { const c = window.townsquareMaps()[0].getCenter();"
                " return Math.abs(c.lat - lat) < 0.001 && Math.abs(c.lng - lon) < 0.0015; }",
                arg=list(point),
            )
            assert metres(_centre(page), point) < 100
            page.wait_for_url(lambda url: "lat=" in url)

        # near me: the browser's position becomes the feed's own query, and nothing else
        page.get_by_role("button", name="Near me").click()
        page.wait_for_url(lambda url: "lat=47.62050" in url and "lon=-122.34930" in url)
        assert metres(_centre(page), NEAR_ME) < 100

        # the place travels: the nav links carry the feed's place, and those pages start there
        alerts = page.locator("nav.topnav a[data-place-link]", has_text="Alerts")
        href = alerts.get_attribute("href") or ""
        assert "lat=47.6205" in href
        assert "radius_m=" in href
        _nav_link(page, "This week").click()
        expect(page.locator("#wk-lat")).to_have_value(href.split("lat=")[1].split("&")[0])
        _nav_link(page, "Alerts").click()
        assert page.input_value("#w-lat").startswith("47.6205")
    finally:
        context.close()
    assert errors == []
    assert all(url.startswith(site) for url in requests)  # no request leaves the site


def _nav_link(page: Page, name: str) -> Locator:
    """A link of the top navigation, opening the phone's folded menu first when it is shut."""
    menu = page.locator("details[data-menu]")
    if menu.get_attribute("open") is None:
        page.get_by_text("Menu", exact=True).click()
    return page.locator("nav.topnav a[data-place-link]", has_text=name)
