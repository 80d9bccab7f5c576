"""A footage request's whole cycle in a real browser: filed on the portal, shared, viewed, revoked.

Everything is real: uvicorn serving `create_app`, a local SMTP server receiving the
verification mail and the request's notice, Debian's Chromium, a clip made with ffmpeg and
pushed with the camera's token, the officer's two-factor code computed with pyotp.
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
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.support.clips import pattern_clip
from tests.support.e2e import mailing_settings
from tests.support.footage import CENTER, INSIDE, make_agency
from tests.support.residents import PASSWORD, Mailbox
from tests.support.server import serving
from tests.support.waiting import wait_for
from townsquare.accounts import grants
from townsquare.db import make_engine, make_sessionmaker, utcnow
from townsquare.media.models import Media
from townsquare.migrations import runner
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

RESIDENT = "camera-owner@example.org"
OFFICER = "officer@example.org"
AGENCY = "seattle-police"


@dataclass(frozen=True)
class FootageServer:
    """The server, its store and the mailbox its mail goes to."""

    url: str
    database_url: str
    box: Mailbox


@pytest.fixture
def footage_server(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[FootageServer]:
    """The whole app over a new store, mailing through the local SMTP server."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()

    def settings_for(site: str) -> Settings:
        return mailing_settings(url, tmp_path, site, mailbox[1])

    with serving(settings_for) as site:
        yield FootageServer(site, url, mailbox[0])


def signed_up(server: FootageServer, email: str) -> httpx.Client:
    """An account made by sign-up and the mailed link, signed in over the API."""
    client = httpx.Client(base_url=server.url)
    body = {"email": email, "password": PASSWORD}
    assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
    token = server.box.link(email, "/verify")
    assert client.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    signed = client.post("/api/v1/account/sign-in", json=body)
    assert signed.status_code == 200, signed.text
    client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    return client


def make_officer(server: FootageServer) -> pyotp.TOTP:
    """A verified agency (as an operator leaves it) and its officer, two-factor enrolled."""
    engine = make_engine(server.database_url)
    factory = make_sessionmaker(engine)
    make_agency(factory, AGENCY)
    client = signed_up(server, OFFICER)
    with factory() as session:
        grants.grant_role(session, OFFICER, "agency_officer", actor_id=None, agency=AGENCY)
    totp = pyotp.TOTP(client.post("/api/v1/account/totp").json()["secret"])
    confirmed = client.post("/api/v1/account/totp/confirm", json={"code": totp.at(utcnow())})
    assert confirmed.status_code == 204, confirmed.text
    client.close()
    engine.dispose()
    return totp


def sign_in(page: Page, server: FootageServer, email: str, target: str) -> None:
    """The sign-in page's password step, then back to `target`."""
    page.goto(f"{server.url}/sign-in?next={target}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def push_clip(server: FootageServer, camera_id: int, token: str, folder: Path) -> None:
    """A real clip, captured 90 minutes ago, pushed as the camera's software does."""
    clip = pattern_clip(folder, "porch.mp4", 2.0, side=96)
    start = utcnow() - timedelta(minutes=90)
    pushed = httpx.post(
        f"{server.url}/api/v1/cameras/{camera_id}/clips",
        params={"start": start.isoformat(), "end": (start + timedelta(seconds=2)).isoformat()},
        content=clip.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"},
        timeout=120,
    )
    assert pushed.status_code == 201, pushed.text
    engine = make_engine(server.database_url)  # the server's media job blurs it meanwhile
    media_id = pushed.json()["media_id"]

    def processed() -> bool:
        with make_sessionmaker(engine)() as session:  # a new snapshot each look
            return session.scalar(select(Media.state).where(Media.id == media_id)) != "processing"

    try:
        wait_for(processed, timeout=120, what="the server to process the clip")
    finally:
        engine.dispose()


def test_officer_files_resident_shares_officer_views_resident_revokes(
    footage_server: FootageServer,
    browser: Browser,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    server = footage_server
    errors: list[str] = []
    away: list[str] = []

    def watched_page() -> Page:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith((server.url, "data:", "blob:")) else away.append(r.url)
            ),
        )
        return page

    # The resident registers a camera on the cameras page; its token is shown once.
    signed_up(server, RESIDENT).close()
    home = watched_page()
    sign_in(home, server, RESIDENT, "/cameras")
    expect(home.get_by_role("heading", name="My cameras")).to_be_visible()
    home.get_by_label("Name").fill("Porch")
    home.locator("#camera-map").click()  # the map picks a place; typed coordinates refine it
    expect(home.get_by_label("Latitude")).not_to_have_value("")
    home.get_by_label("Latitude").fill(str(INSIDE[0]))
    home.get_by_label("Longitude").fill(str(INSIDE[1]))
    home.get_by_role("button", name="Register the camera").click()
    made = home.locator("[data-camera-made]")
    expect(made).to_contain_text("Camera “Porch” registered")
    camera_id = int(made.get_attribute("data-camera-made") or 0)
    token = home.locator("[data-push-token]").inner_text().strip()
    assert token.startswith("tsc_")
    push_clip(server, camera_id, token, tmp_path)
    home.goto(f"{server.url}/cameras")
    expect(home.locator(f"[data-camera='{camera_id}']")).to_contain_text("1 clip")
    assert token not in home.content()

    # The officer signs in with a code and files a request from the portal's map.
    totp = make_officer(server)
    cop = watched_page()
    sign_in(cop, server, OFFICER, "/agency")
    cop.get_by_label("Code", exact=True).fill(totp.at(utcnow(), counter_offset=1))
    cop.get_by_role("button", name="Sign in").click()
    expect(cop.get_by_role("heading", name=re.compile("New footage request"))).to_be_visible()
    box = cop.locator("#area-map").bounding_box()
    assert box is not None
    cop.locator("#area-map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    lat = float(cop.get_by_label("Centre latitude").input_value())
    lon = float(cop.get_by_label("Centre longitude").input_value())
    assert abs(lat - CENTER[0]) < 0.0005
    assert abs(lon - CENTER[1]) < 0.0005
    # Drawing a polygon fills its field; cleared, the circle is what gets filed.
    cop.get_by_role("button", name="Draw a polygon instead").click()
    for x, y in ((-60, 40), (60, 40), (0, -60)):
        cop.locator("#area-map").click(
            position={"x": box["width"] / 2 + x, "y": box["height"] / 2 + y}
        )
    expect(cop.get_by_label("GeoJSON Polygon")).to_have_value(re.compile('"type":"Polygon"'))
    expect(cop.locator("path.area-polygon")).to_have_count(1)
    cop.get_by_role("button", name="Stop drawing the polygon").click()
    cop.get_by_role("button", name="Clear the polygon").click()
    expect(cop.get_by_label("GeoJSON Polygon")).to_have_value("")
    assert float(cop.get_by_label("Centre latitude").input_value()) == lat
    cop.get_by_label("Radius (metres)").fill("900")  # too large: refused with the rule
    expect(cop.locator("path.area-circle")).to_have_count(1)
    cop.get_by_label("Case number").fill("2026-4242")
    cop.get_by_label("Reason (public)").fill(
        "Package theft from porches on the block; looking for a person with a grey cart."
    )
    cop.get_by_role("button", name="File the request").click()
    expect(cop.get_by_role("alert")).to_contain_text("area must be 0.025 to 0.5 square miles")
    assert len(errors) == 1  # the refused form's page answers 422, which Chromium logs
    assert "status of 422" in errors.pop()
    cop.get_by_label("Radius (metres)").fill("300")
    cop.get_by_role("button", name="File the request").click()
    expect(cop.get_by_role("status")).to_contain_text("filed")
    request = cop.locator("[data-request]")
    expect(request).to_have_count(1)
    expect(request.locator("[data-count='notified']")).to_have_text("1")
    expect(request.locator("[data-no-clips]")).to_be_visible()
    assert server.box.messages[-1][1] == [RESIDENT]  # the notice went to the camera's owner

    # The resident sees it in the inbox and shares the clip with a note.
    home.goto(f"{server.url}/footage")
    item = home.locator("[data-inbox-request]")
    expect(item).to_contain_text("case 2026-4242")
    item.get_by_role("checkbox").check()
    item.get_by_label("Note to the agency").fill("grey cart passes at the start")
    item.get_by_role("button", name="Share the chosen clips").click()
    expect(home.get_by_role("status")).to_contain_text("Shared")
    expect(home.locator("[data-share][data-active='yes']")).to_have_count(1)
    home.screenshot(path=str(artifacts / "footage_inbox_shared.png"), full_page=True)

    # The officer views it: the video element loads through the agency read route.
    cop.reload()
    video = cop.locator("video.clip-video")
    expect(video).to_have_count(1)
    src = video.get_attribute("src") or ""
    assert re.fullmatch(r"/api/v1/footage/shares/\d+/video", src)
    assert cop.request.get(f"{server.url}{src}").status == 200
    video.scroll_into_view_if_needed()
    cop.wait_for_function("v => v.readyState >= 1 && v.videoWidth > 0", arg=video.element_handle())
    expect(cop.locator("[data-shared-clip]")).to_contain_text("grey cart passes at the start")
    cop.screenshot(path=str(artifacts / "footage_portal_shared.png"), full_page=True)

    # Who saw my data: the agency's reads are listed for the resident.
    home.goto(f"{server.url}/account/access-log")
    expect(home.locator("tr[data-access='footage.read']").first).to_contain_text(f"agency {AGENCY}")

    # The resident revokes; the officer's next read is a 404 and the portal lists no clip.
    home.goto(f"{server.url}/footage")
    home.get_by_role("button", name=re.compile(r"^Revoke clip")).click()
    expect(home.get_by_role("status")).to_contain_text("Revoked")
    expect(home.locator("[data-share][data-active='no']")).to_contain_text("revoked")
    assert cop.request.get(f"{server.url}{src}").status == 404
    cop.reload()
    expect(cop.locator("video")).to_have_count(0)
    expect(cop.locator("[data-request] [data-count='revoked']")).to_have_text("1")
    expect(cop.locator("[data-request] [data-no-clips]")).to_be_visible()
    cop.screenshot(path=str(artifacts / "footage_portal_revoked.png"), full_page=True)

    # The public report counts it all.
    home.goto(f"{server.url}/transparency")
    expect(home.locator("[data-total='shared']")).to_have_text("1")
    expect(home.locator("[data-total='revoked']")).to_have_text("1")
    home.screenshot(path=str(artifacts / "footage_transparency.png"), full_page=True)
    assert away == []
    assert errors == []
