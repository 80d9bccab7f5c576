"""A resident's photo from choosing it to the public page, in a real browser.

A resident picks a real photo (scikit-image's astronaut, a face, GPS in its EXIF) for a draft
the guidelines refuse: the re-rendered form keeps the photo. Corrected and sent, "my posts"
shows its blurred thumbnail; a moderator approves it; the public incident page and the feed
item show the blurred copy, whose bytes carry no GPS and a blurred face. Removed, it is gone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pydantic import SecretStr
from sqlalchemy import select

from tests.support.browsing import axe_violations, overflow_px, plant_session
from tests.support.public_media import PUBLIC_URL, face_photo, face_sharpness, has_gps
from tests.support.server import serving
from tests.support.waiting import wait_for
from townsquare.db import make_engine, make_sessionmaker
from townsquare.migrations import runner
from townsquare.posts.models import Post
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

TITLE = "Car windows smashed on the block"
PLACE = (47.6205, -122.3493)
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@dataclass(frozen=True)
class Site:
    """The server and its store."""

    url: str
    database_url: str


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The whole app over an empty, migrated store."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()

    def settings_for(address: str) -> Settings:
        return Settings(
            database_url=SecretStr(url),
            data_dir=tmp_path,
            tile_url="",
            public_url=address,
            secret_key=SecretStr("e2e secret"),
        )

    with serving(settings_for) as address:
        yield Site(address, url)


def signed_in(browser: Browser, site: Site, email: str, role: str, size: str) -> BrowserContext:
    """A browser context holding a planted session of an account with `role`."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    cookie = plant_session(site.database_url, email, [role])
    host = site.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": "ts_session", "value": cookie, "domain": host, "path": "/"}])
    return context


def loaded(page: Page, image: Locator) -> None:
    """Wait until the image is decoded (a broken image has no natural width)."""
    image.scroll_into_view_if_needed()
    decoded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(decoded, arg=image.element_handle())


def shoot(page: Page, path: str, artifacts: Path, name: str) -> None:
    """Screenshots of `path` at phone and desktop widths; the page fits each, axe finds nothing."""
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(path)
        for image in page.locator("main img").all():
            loaded(page, image)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / f"{name}_{size}.png"), full_page=True)
        assert overflow_px(page) == 0, size
        assert [str(v) for v in axe_violations(page)] == [], size


def write_draft(page: Page, photo: Path) -> None:
    """Fill the new-post form, describing the person by race alone."""
    page.get_by_label("What is it about?").select_option("crime.vandalism")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("What happened").fill(
        "Someone smashed two parked cars' windows with a bar and ran towards the park."
    )
    page.get_by_label("Latitude").fill(str(PLACE[0]))
    page.get_by_label("Longitude").fill(str(PLACE[1]))
    page.get_by_label("My report describes a person").check()
    page.get_by_label("What did they do?").fill("smashed car windows with a metal bar")
    page.get_by_label("Descriptor 1").fill("Black male")
    page.get_by_label("Photo").set_input_files(photo)


def test_an_approved_photo_is_shown_blurred_to_the_public(
    site: Site, browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    photo = face_photo(tmp_path / "sighting.jpg")
    resident = signed_in(browser, site, "ada@example.org", "resident", "desktop")
    page = resident.new_page()
    page.goto(f"{site.url}/posts/new")
    write_draft(page, photo)
    page.get_by_role("button", name="Send for review").click()

    # Refused by the guidelines: the photo stays with the draft, shown; no need to choose it again.
    expect(page.locator("#guideline-checks [data-check='race_only']")).to_be_visible()
    kept = page.get_by_role("img", name="The photo you chose, kept with this draft")
    loaded(page, kept)
    expect(page.get_by_label("Remove this photo from the report")).not_to_be_checked()
    page.screenshot(path=str(artifacts / "public_media_kept_draft_photo.png"), full_page=True)
    page.get_by_label("Descriptor 1").fill("red hoodie")
    page.get_by_label("Descriptor 2").fill("about six feet tall")
    page.get_by_role("button", name="Send for review").click()
    expect(page).to_have_url(re.compile(r"/posts/mine\?sent=\d+$"))

    # My posts: a thumbnail of the photo once the media job has blurred it.
    def thumbnail() -> int:
        page.reload()
        return page.locator("img[data-thumb]").count()

    wait_for(thumbnail, timeout=60, what="the photo to be blurred")
    loaded(page, page.get_by_role("img", name=re.compile("^Your photo 1, with faces")))
    shoot(page, f"{site.url}/posts/mine", artifacts, "public_media_my_posts")

    moderator = signed_in(browser, site, "mo@example.org", "moderator", "desktop")
    mod = moderator.new_page()
    mod.goto(f"{site.url}/moderation")
    queued = mod.locator("li[data-post]").filter(has_text=TITLE)
    queued.get_by_role("button", name="Approve").click()
    done = mod.locator("li[id^='done-']").filter(has_text=TITLE)
    expect(done.locator(".state")).to_have_text("Published")

    engine = make_engine(site.database_url)
    with make_sessionmaker(engine)() as session:
        incident_id = session.scalars(select(Post.incident_id)).one()
    engine.dispose()

    # The public page, read by someone signed out: the blurred photo, with its size and alt.
    reader = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    public = reader.new_page()
    public.goto(f"{site.url}/incidents/{incident_id}")
    shown = public.get_by_role("img", name=re.compile(f"^Photo 1 sent with this report: {TITLE}"))
    expect(shown).to_have_attribute("width", "512")
    expect(shown).to_have_attribute("height", "512")
    src = shown.get_attribute("src")
    assert src is not None
    assert PUBLIC_URL.match(src)
    loaded(public, shown)
    shoot(public, f"{site.url}/incidents/{incident_id}", artifacts, "public_media_incident")

    served = httpx.get(site.url + src)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    original = photo.read_bytes()
    assert served.content != original
    assert not has_gps(served.content)
    assert face_sharpness(served.content) < 0.5 * face_sharpness(original)

    # The feed item carries a small thumbnail of it.
    params = {"lat": PLACE[0], "lon": PLACE[1], "radius_m": 5000}

    def listed() -> bool:
        features = httpx.get(f"{site.url}/api/v1/incidents", params=params).json()["features"]
        return any(f["id"] == incident_id for f in features)

    wait_for(listed, timeout=10, what="the incident to reach the feed")
    public.goto(f"{site.url}/?lat={PLACE[0]}&lon={PLACE[1]}&radius_m=5000")
    thumb = public.locator(f"#results li[data-incident='{incident_id}'] img[data-media-thumb]")
    expect(thumb).to_have_attribute("src", src)
    loaded(public, thumb)
    public.screenshot(path=str(artifacts / "public_media_feed_desktop.png"))
    public.set_viewport_size({"width": 390, "height": 844})
    thumb.scroll_into_view_if_needed()
    public.screenshot(path=str(artifacts / "public_media_feed_phone.png"), full_page=True)
    assert overflow_px(public) == 0

    # Removed by the moderator: the copy is no longer served.
    mod.reload()
    done = mod.locator("li[id^='done-']").filter(has_text=TITLE)
    done.get_by_text("Remove…").click()
    done.get_by_label("Reason the author will read").fill("It shows a bystander's face.")
    done.get_by_role("button", name="Remove", exact=True).click()
    expect(mod.locator("li[id^='done-']").filter(has_text=TITLE).locator(".state")).to_have_text(
        "Removed"
    )
    assert httpx.get(site.url + src).status_code == 404
    for context in (resident, moderator, reader):
        context.close()
