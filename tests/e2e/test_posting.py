"""A resident posts a sighting in a real browser; a moderator approves it; the feed shows it.

Everything is real: uvicorn serving `create_app`, a local SMTP server (aiosmtpd) receiving
the verification mail, Debian's Chromium, a real photo (scikit-image's astronaut) as JPEG,
and a TOTP code computed with pyotp for the moderator's two-factor sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from skimage import data as sample_images
from sqlalchemy import select

from tests.support.e2e import Watched, build_store, mailing_settings, sign_in_on_page
from tests.support.residents import PASSWORD, Mailbox
from tests.support.server import serving
from tests.support.waiting import wait_for
from townsquare.accounts import grants
from townsquare.db import make_engine, make_sessionmaker, utcnow
from townsquare.posts.models import Post
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

RESIDENT = "ada@example.org"
MODERATOR = "mo@example.org"
CHECKS = "#guideline-checks"


@dataclass(frozen=True)
class PostingServer:
    """The server, its store and the mailbox its account mail goes to."""

    url: str
    database_url: str
    box: Mailbox


@pytest.fixture
def posting_server(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[PostingServer]:
    """The whole app over the sample feeds, mailing through the local SMTP server."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    build_store(url)

    def settings_for(site: str) -> Settings:
        return mailing_settings(url, tmp_path, site, mailbox[1])

    with serving(settings_for) as site:
        yield PostingServer(site, url, mailbox[0])


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A real photo: the astronaut sample, saved as JPEG."""
    path = tmp_path / "sighting.jpg"
    Image.fromarray(sample_images.astronaut()).save(path, format="JPEG", quality=88)
    return path


def sign_up_in_browser(page: Page, server: PostingServer, email: str) -> None:
    """Sign up on the page, then open the link the SMTP server received and confirm."""
    page.goto(f"{server.url}/sign-up")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    token = server.box.link(email, "/verify")
    page.goto(f"{server.url}/verify?token={token}")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()


def make_moderator(server: PostingServer) -> None:
    """A moderator as an operator makes one: signed up and the role granted (not yet active)."""
    with httpx.Client(base_url=server.url) as client:
        body = {"email": MODERATOR, "password": PASSWORD}
        assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
        token = server.box.link(MODERATOR, "/verify")
        assert client.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    engine = make_engine(server.database_url)
    with make_sessionmaker(engine)() as session:
        grants.grant_role(session, MODERATOR, "moderator", actor_id=None)
    engine.dispose()


def enrol_two_factor(page: Page, artifacts: Path) -> pyotp.TOTP:
    """Turn two-factor sign-in on from the account page: the QR code shows, a code confirms."""
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code of your two-factor secret for Townsquare")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    page.screenshot(path=str(artifacts / "posting_two_factor_setup.png"), full_page=True)
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("The 6-digit code the app shows now").fill(totp.at(utcnow()))
    page.get_by_role("button", name="Turn two-factor sign-in on").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is on")
    return totp


def wait_until_listed(
    server: PostingServer, incident_id: int | None, lat: float, lon: float
) -> None:
    """The feed index learns of a publication through the outbox relay: wait for it."""
    params = {"lat": lat, "lon": lon, "radius_m": 5000, "limit": 100}

    def listed() -> bool:
        features = httpx.get(f"{server.url}/api/v1/incidents", params=params).json()["features"]
        return any(f["id"] == incident_id for f in features)

    wait_for(listed, timeout=10, what=f"incident {incident_id} to reach the feed")


def assert_stayed_local(watched: Watched, server: PostingServer) -> None:
    """No request left the server, and the page logged no error."""
    away = [u for u in watched.requests if not u.startswith((server.url, "data:", "blob:"))]
    assert away == []
    assert watched.errors == []


def test_resident_posts_moderator_approves_feed_shows_it(
    posting_server: PostingServer,
    watched: Watched,
    browser: Browser,
    photo: Path,
    artifacts: Path,
) -> None:
    server, page = posting_server, watched.page
    sign_up_in_browser(page, server, RESIDENT)
    page.locator("main").get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill(RESIDENT)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/posts/new$"))
    topnav = page.locator("nav.topnav")
    expect(topnav.get_by_role("link", name="Account")).to_be_visible()
    expect(topnav.get_by_role("link", name="Sign in")).to_have_count(0)

    # The draft: category, text, the time the page filled in, a place clicked on the map.
    page.get_by_label("What is it about?").select_option("crime.vandalism")
    page.get_by_label("Title").fill("Car windows smashed on the block")
    page.get_by_label("What happened").fill(
        "Someone smashed two parked cars' windows with a bar and ran towards the park."
    )
    expect(page.get_by_label("When it happened")).not_to_have_value("")
    page.locator("#post-map").click(position={"x": 260, "y": 140})
    expect(page.get_by_label("Latitude")).not_to_have_value("")
    lat = float(page.get_by_label("Latitude").input_value())
    lon = float(page.get_by_label("Longitude").input_value())

    # Describing the person by race alone: the guideline prompt appears as it is typed.
    page.get_by_label("My report describes a person").check()
    page.get_by_label("What did they do?").fill("smashed car windows with a metal bar")
    page.get_by_label("Descriptor 1").fill("Black male")
    refusal = page.locator(f"{CHECKS} [data-check='race_only']")
    expect(refusal).to_contain_text("race or ethnicity alone cannot be posted")
    page.screenshot(path=str(artifacts / "posting_guideline_prompt.png"), full_page=True)

    page.get_by_label("Descriptor 1").fill("red hoodie")
    page.get_by_label("Descriptor 2").fill("about six feet tall")
    expect(refusal).to_have_count(0)
    expect(page.locator(f"{CHECKS} [data-check='ok']")).to_be_visible()
    page.get_by_label("Photo").set_input_files(photo)
    page.get_by_role("button", name="Send for review").click()
    expect(page).to_have_url(re.compile(r"/posts/mine\?sent=\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Your report was sent")
    mine = page.locator("li[data-post]")
    expect(mine).to_have_count(1)
    expect(mine.locator(".state")).to_have_text("Pending")
    expect(mine).to_contain_text("1 photo")
    assert_stayed_local(watched, server)

    # The moderator's role waits for two-factor sign-in: set up on the account page, then a
    # new sign-in with a code opens the queue.
    make_moderator(server)
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    mod = context.new_page()
    mod_errors: list[str] = []
    mod.on("console", lambda m: mod_errors.append(m.text) if m.type == "error" else None)
    mod.goto(f"{server.url}/sign-in?next=/account")
    sign_in_on_page(mod, MODERATOR)
    expect(mod.locator("#two-factor")).to_contain_text("apply only once it is on")
    expect(mod.locator("nav.topnav").get_by_role("link", name="Moderation")).to_have_count(0)
    totp = enrol_two_factor(mod, artifacts)
    mod.get_by_role("button", name="Sign out", exact=True).click()
    mod.goto(f"{server.url}/moderation")
    sign_in_on_page(mod, MODERATOR)
    mod.get_by_label("Code", exact=True).fill(totp.at(utcnow(), counter_offset=1))
    mod.get_by_role("button", name="Sign in").click()
    expect(mod.get_by_role("heading", name="Moderation queue")).to_be_visible()
    expect(mod.locator("nav.topnav").get_by_role("link", name="Moderation")).to_be_visible()
    queued = mod.locator("li[data-post]").filter(has_text="Car windows smashed on the block")
    expect(queued).to_contain_text("red hoodie; about six feet tall")
    # The photo as the public would see it (blurred), loaded through the audited review route.
    shown = queued.get_by_role("img", name="Photo 1, faces and plates blurred")
    expect(shown).to_have_attribute("src", re.compile(r"^/api/v1/media/\d+/review$"))
    shown.scroll_into_view_if_needed()
    mod.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.element_handle())
    mod.screenshot(path=str(artifacts / "posting_moderation_queue.png"), full_page=True)
    queued.get_by_role("button", name="Approve").click()
    done = mod.locator("li[id^='done-']").filter(has_text="Car windows smashed on the block")
    expect(done.locator(".state")).to_have_text("Published")
    assert mod_errors == []
    context.close()

    # The public feed around the place lists it, labelled as an unverified resident report.
    engine = make_engine(server.database_url)
    with make_sessionmaker(engine)() as session:
        post = session.scalars(select(Post)).one()
        incident_id, has_exact = post.incident_id, (post.lat, post.lon) == (lat, lon)
    engine.dispose()
    assert has_exact  # the exact point is kept privately for the author
    wait_until_listed(server, incident_id, lat, lon)
    page.goto(f"{server.url}/?lat={lat:.4f}&lon={lon:.4f}&radius_m=5000")
    item = page.locator(f"#results li[data-incident='{incident_id}']")
    expect(item).to_contain_text("Car windows smashed on the block")
    expect(item.locator("[data-provenance]")).to_have_text("resident, unverified")
    page.screenshot(path=str(artifacts / "posting_feed.png"))
    item.get_by_role("link", name="Car windows smashed on the block").click()
    expect(page.locator(".facts [data-provenance]")).to_have_text("resident, unverified")
    assert str(lat) not in page.content()  # never the exact point
    assert_stayed_local(watched, server)
