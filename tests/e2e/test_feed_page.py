"""The feed page in a real browser: markers and list agree, filters, paging, map clicks, detail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.e2e import LiveServer, Watched

pytestmark = pytest.mark.e2e

ITEMS = "#results li[data-incident]"
MARKERS = "#map .map-marker"  # incident icons and clusters
SUMMARY = "#results [data-summary]"
PAN_MS = 400
SAN_FRANCISCO = "/?lat=37.7793&lon=-122.4193&radius_m=2000"


def items(page: Page) -> list[str]:
    """The ids of the listed incidents, in order."""
    found: list[str] = page.locator(ITEMS).evaluate_all("els => els.map(e => e.dataset.incident)")
    return found


def categories(page: Page) -> set[str]:
    """The categories of the listed incidents."""
    return set(page.locator(ITEMS).evaluate_all("els => els.map(e => e.dataset.category)"))


def expect_markers_match_list(page: Page) -> int:
    """Wait until the map holds the area's points, at least the listed ones, drawn as icons and
    clusters; return how many items the list shows."""
    count = page.locator(ITEMS).count()
    mapped = page.locator("#results[data-mapped]")
    expect(mapped).to_have_count(1)
    assert int(mapped.get_attribute("data-mapped") or 0) >= count
    expect(page.locator(MARKERS).first).to_be_visible()
    return count


def assert_stayed_local(watched: Watched, server: LiveServer) -> None:
    """Every request went to the test server, and nothing failed in the console."""
    assert [url for url in watched.requests if not url.startswith(server.url)] == []
    assert watched.errors == []


def test_page_shows_sample_incidents_on_map_and_list(
    live_server: LiveServer, watched: Watched, artifacts: Path
) -> None:
    page = watched.page
    page.goto(live_server.url + "/")
    expect(page.locator(ITEMS).first).to_be_visible()
    count = expect_markers_match_list(page)
    assert count == 25  # a full page: downtown Seattle has more than that in the sample
    expect(page.locator("#results .load-more a")).to_be_visible()
    expect(page.locator("#legend")).to_contain_text("Traffic")
    page.screenshot(path=str(artifacts / "feed-seattle.png"))
    assert_stayed_local(watched, live_server)


def test_category_filter_changes_list_map_and_address(
    live_server: LiveServer, watched: Watched, artifacts: Path
) -> None:
    page = watched.page
    page.goto(live_server.url + SAN_FRANCISCO)
    expect(page.locator(ITEMS).first).to_be_visible()
    everything = items(page)
    assert len(categories(page)) > 1

    page.select_option("#category", "fire")
    expect(page.locator(SUMMARY)).to_contain_text("· Fire")
    assert categories(page)
    assert all(c.startswith("fire.") for c in categories(page))
    assert items(page) != everything
    expect_markers_match_list(page)
    expect(page).to_have_url(re.compile(r"[?&]category=fire(&|$)"))

    page.select_option("#category", "fire.structure")
    expect(page.locator(SUMMARY)).to_contain_text("· Structure fire")
    assert categories(page) == {"fire.structure"}
    expect_markers_match_list(page)
    expect(page.locator("#results")).to_have_css("opacity", "1")  # faded in after the swap
    page.screenshot(path=str(artifacts / "feed-sf-structure-fires.png"))

    page.go_back()  # history is not cached: the browser reloads the page at that URL
    expect(page.locator("#category")).to_have_value("fire")
    assert all(c.startswith("fire.") for c in categories(page))
    assert_stayed_local(watched, live_server)


def test_load_more_and_map_click(live_server: LiveServer, watched: Watched) -> None:
    page = watched.page
    page.goto(live_server.url + "/")
    expect(page.locator(ITEMS)).to_have_count(25)
    first_page = items(page)

    page.locator("#results .load-more a").click()
    expect(page.locator(ITEMS)).to_have_count(50)
    assert items(page)[:25] == first_page
    assert len(set(items(page))) == 50
    expect_markers_match_list(page)
    expect(page.locator(ITEMS).nth(25).locator("a")).to_be_focused()

    before = page.input_value("#lat")
    page.locator("#map").click(position={"x": 150, "y": 150})
    lat = page.input_value("#lat")
    assert lat != before
    expect(page.locator("#results h2")).to_contain_text(f"{abs(float(lat)):.4f}")
    expect(page).to_have_url(re.compile(rf"[?&]lat={re.escape(lat)}&"))
    expect_markers_match_list(page)
    assert_stayed_local(watched, live_server)


def test_incident_page(live_server: LiveServer, watched: Watched, artifacts: Path) -> None:
    page = watched.page
    page.goto(live_server.url + SAN_FRANCISCO + "&category=fire.structure")
    first = page.locator(ITEMS).first
    title = first.locator("h3").inner_text()
    first.locator("h3 a").click()
    expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator(".facts")).to_contain_text("dispatch-confirmed")
    expect(page.locator(".facts")).to_contain_text("fire.structure")
    local = re.compile(r"\d{1,2} [A-Z][a-z]{2}, \d{1,2}:\d\d [AP]M [A-Z][A-Z0-9+:-]+")
    expect(page.locator(".facts")).to_contain_text(local)  # the reader's zone, named
    expect(page.locator(".reasons li").first).to_be_visible()
    expect(page.locator("#incident-map .map-marker")).to_have_count(1)
    page.screenshot(path=str(artifacts / "incident.png"), full_page=True)
    assert_stayed_local(watched, live_server)


def test_keyboard_pans_the_map_and_searches_there(
    live_server: LiveServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(live_server.url + "/")
    expect(page.locator(ITEMS).first).to_be_visible()
    before = page.input_value("#lon")
    button = page.locator("#search-here")
    expect(button).to_be_hidden()
    page.locator("#map").focus()
    for _ in range(20):  # Leaflet ignores arrow keys while a pan animates: one at a time
        if button.is_visible():
            break
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(PAN_MS)
    expect(button).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#lon")).not_to_have_value(before)
    expect(button).to_be_hidden()
    assert float(page.input_value("#lon")) > float(before)
    expect_markers_match_list(page)
    assert_stayed_local(watched, live_server)


def test_bad_coordinates_are_explained_without_leaving_the_page(
    live_server: LiveServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(live_server.url + "/")
    expect(page.locator(ITEMS).first).to_be_visible()
    page.fill("#lat", "north")
    page.press("#lat", "Enter")
    alert = page.locator('#results [role="alert"]')
    expect(alert).to_contain_text("Latitude: 'north' is not a number.")
    expect(page.locator(ITEMS)).to_have_count(0)
    expect(page.locator(MARKERS)).to_have_count(0)
    assert "north" not in page.url  # a failed search is not pushed to the history
    # the browser reports the 422 answer itself; nothing else may fail
    watched.errors[:] = [e for e in watched.errors if "status of 422" not in e]
    assert_stayed_local(watched, live_server)
