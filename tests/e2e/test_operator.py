"""An operator runs the service from pages, on a fresh store: signs in with a code, verifies a
pending agency by uploading its jurisdiction and another by drawing it on the map, grants
the curator (moderator) role to a resident, reads the sources' health and the quarantine, and
the audit log's verdict; then the desk, filtered. Each page at 390 and 1280 px wide, with
axe-core run on it and screenshots in tests/e2e/artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support import factories
from tests.support.browsing import axe_violations, overflow_px
from tests.support.e2e import mailing_settings, sign_in_on_page
from tests.support.footage import JURISDICTION
from tests.support.residents import PASSWORD, Mailbox
from tests.support.server import serving
from townsquare.accounts import grants
from townsquare.db import make_engine, make_sessionmaker, transaction, utcnow
from townsquare.ingest.models import RawRecord, Source
from townsquare.migrations import runner
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

OPERATOR = "op@example.org"
RESIDENT = "ada@example.org"
WIDTHS = (390, 1280)
SEATTLE = (47.6062, -122.3321)


@dataclass(frozen=True)
class Site:
    """The server, its store and the mailbox its account mail goes to."""

    url: str
    database_url: str
    box: Mailbox


@pytest.fixture
def site(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[Site]:
    """The whole app over an empty store, mailing through the local SMTP server."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()

    def settings_for(address: str) -> Settings:
        return mailing_settings(url, tmp_path, address, mailbox[1])

    with serving(settings_for) as address:
        yield Site(address, url, mailbox[0])


def sign_up(site: Site, email: str) -> httpx.Client:
    """An account made over the API (sign-up, the mailed link), signed in."""
    client = httpx.Client(base_url=site.url)
    body = {"email": email, "password": PASSWORD}
    assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
    token = site.box.link(email, "/verify")
    assert client.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    signed = client.post("/api/v1/account/sign-in", json=body)
    assert signed.status_code == 200, signed.text
    client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    return client


def make_operator(site: Site) -> pyotp.TOTP:
    """An operator (and curator) as the CLI grants it, two-factor set up over the API."""
    client = sign_up(site, OPERATOR)
    engine = make_engine(site.database_url)
    with make_sessionmaker(engine)() as session:
        grants.grant_role(session, OPERATOR, "operator", actor_id=None)
        grants.grant_role(session, OPERATOR, "moderator", actor_id=None)
    engine.dispose()
    totp = pyotp.TOTP(client.post("/api/v1/account/totp").json()["secret"])
    assert client.post("/api/v1/account/totp/confirm", json={"code": totp.at(utcnow())}).is_success
    client.close()
    return totp


def seed(site: Site) -> None:
    """Two agencies a feed registered (no area, not verified), a failing source with two
    quarantined records, and a few items entering the feed."""
    engine = make_engine(site.database_url)
    now = utcnow()
    with transaction(make_sessionmaker(engine)) as session:
        metro = factories.agency(session, "metro-fire")
        metro.name = "Metro Fire"
        harbor = factories.agency(session, "harbor-police")
        harbor.name = "Harbor Police"
        source = Source(
            slug="metro-cad",
            name="Metro Fire CAD",
            kind="csv",
            agency_id=metro.id,
            config={"poll_interval_s": 60},
            last_success_at=now,
            last_error_at=now,
            last_error="HTTP 503 Service Unavailable from the feed",
            failures=1,
        )
        session.add(source)
        session.flush()
        for n in range(3):
            bad = n > 0
            session.add(
                RawRecord(
                    source_id=source.id,
                    position=f"line {n + 2}",
                    external_id=f"F26-{n:04d}",
                    content_hash=f"{n:064d}",
                    payload="a record",
                    received_at=now,
                    outcome="quarantined" if bad else "normalized",
                    error_field="occurred_at" if bad else None,
                    error="'31/02/2026 25:61' is not a time" if bad else None,
                )
            )
        for n, (dlat, category) in enumerate(
            [(0.0, "fire.structure"), (0.003, "crime.burglary"), (0.06, "traffic.collision")]
        ):
            row = factories.incident(
                session,
                lat=SEATTLE[0] + dlat,
                lon=SEATTLE[1],
                occurred_at=now,
                category=category,
                agency_id=metro.id,
            )
            if n != 1:
                row.source_id = source.id
    engine.dispose()


def shots(page: Page, artifacts: Path, name: str) -> None:
    """The page at each width: no sideways scroll, no blocking axe finding, a screenshot."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow_px(page) == 0, f"{name} is wider than {width} px"
        page.screenshot(path=str(artifacts / f"operator_{name}_{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    found = axe_violations(page)
    assert found == [], f"{name}: " + "; ".join(str(v) for v in found)


def test_operator_runs_the_service_from_pages(
    site: Site, browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    seed(site)
    sign_up(site, RESIDENT).close()
    totp = make_operator(site)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Sign in with a code; the nav names the operator's pages.
    page.goto(f"{site.url}/operator")
    sign_in_on_page(page, OPERATOR)
    page.get_by_label("Code", exact=True).fill(totp.at(utcnow(), counter_offset=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Operator", exact=True)).to_be_visible()
    expect(page.locator("nav.topnav").get_by_role("link", name="Operator")).to_be_attached()
    shots(page, artifacts, "home")

    # Agencies: both wait for an operator.
    page.get_by_role("link", name="Agencies").first.click()
    metro = page.locator("tr[data-agency='metro-fire']")
    expect(metro.locator("[data-status]")).to_contain_text("no jurisdiction yet")
    shots(page, artifacts, "agencies")

    # Metro Fire: its jurisdiction uploaded as a GeoJSON file.
    metro.get_by_role("link", name="Verify").click()
    expect(page.get_by_role("heading", name="Verify Metro Fire")).to_be_visible()
    area = tmp_path / "metro-fire.geojson"
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": JURISDICTION}))
    page.get_by_label("GeoJSON file of the jurisdiction").set_input_files(str(area))
    shots(page, artifacts, "verify")
    page.get_by_role("button", name="Verify Metro Fire").click()
    expect(page.get_by_role("status")).to_contain_text("Verified Metro Fire (metro-fire).")
    expect(metro.locator("[data-status]")).to_contain_text("verified")

    # Harbor Police: drawn corner by corner on the map; a refusal first, in words.
    page.locator("tr[data-agency='harbor-police']").get_by_role("link", name="Verify").click()
    page.get_by_role("button", name="Verify Harbor Police").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "upload a GeoJSON file or draw the area on the map first"
    )
    drawing = page.locator("#agency-map")
    drawing.scroll_into_view_if_needed()
    box = drawing.bounding_box()
    assert box is not None
    for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)):
        drawing.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    expect(page.locator("[data-polygon-hint]")).to_contain_text("4 corners")
    drawn = json.loads(page.get_by_label("The area as GeoJSON").input_value())
    assert drawn["type"] == "Polygon"
    assert len(drawn["coordinates"][0]) == 5  # closed
    page.screenshot(path=str(artifacts / "operator_verify_drawn_1280.png"), full_page=True)
    page.get_by_role("button", name="Verify Harbor Police").click()
    expect(page.get_by_role("status")).to_contain_text("Verified Harbor Police (harbor-police).")
    harbor = page.locator("tr[data-agency='harbor-police'] [data-status]")
    expect(harbor).to_contain_text("verified")
    # A verified agency's page shows its area on the map, with no form.
    page.locator("tr[data-agency='harbor-police']").get_by_role("link", name="View").click()
    expect(
        page.locator("#agency-map path.leaflet-interactive, #agency-map path")
    ).not_to_have_count(0)
    expect(page.get_by_role("button", name="Verify Harbor Police")).to_have_count(0)
    shots(page, artifacts, "agency_verified")
    page.go_back()

    # Roles: the resident becomes a curator.
    page.get_by_role("link", name="Roles").first.click()
    page.get_by_label("E-mail of the account").fill(RESIDENT)
    page.get_by_label("Role", exact=True).select_option("moderator")
    page.get_by_role("button", name="Grant the role").click()
    expect(page.get_by_role("status")).to_contain_text("Granted the moderator")
    ada = page.locator(f"li[data-staff='{RESIDENT}']")
    expect(ada.locator("[data-role='moderator']")).to_be_visible()
    shots(page, artifacts, "roles")

    # Sources: the failing feed, its counts, and the quarantined records with their errors.
    page.get_by_role("link", name="Sources").first.click()
    card = page.locator("li[data-source='metro-cad']")
    expect(card.locator("[data-state]")).to_have_text("failing")
    expect(card.locator("[data-last-error]")).to_contain_text("HTTP 503 Service Unavailable")
    expect(card.locator("[data-counts]")).to_have_text("1 normalized, 0 withheld, 2 quarantined")
    shots(page, artifacts, "sources")
    card.get_by_role("link", name="quarantined records").click()
    expect(page.locator("[data-quarantined]")).to_have_count(2)
    expect(page.locator("[data-quarantined]").first).to_contain_text(
        "occurred_at: '31/02/2026 25:61' is not a time"
    )
    shots(page, artifacts, "quarantine")

    # The audit log: intact, with how many entries, and when checked.
    page.get_by_role("link", name="Audit log").first.click()
    verdict = page.locator("[data-audit='intact']")
    expect(verdict).to_contain_text("The audit log is intact.")
    expect(verdict).to_contain_text("entries match their hashes")
    expect(verdict).to_contain_text("Checked")
    shots(page, artifacts, "audit")

    # The desk, narrowed to one source and to a box drawn on its map.
    page.goto(f"{site.url}/desk")
    expect(page.locator("li[data-item]")).to_have_count(3)
    page.locator("#desk-filters-panel > summary").click()
    page.get_by_label("Source").select_option("metro-cad")
    page.get_by_role("button", name="Show these").click()
    expect(page.locator("li[data-item]")).to_have_count(2)
    expect(page.locator("[data-filter-summary]")).to_contain_text("source metro-cad")
    shots(page, artifacts, "desk")
    page.get_by_role("button", name="Draw a box").click()
    desk_map = page.locator("#desk-map")
    box = desk_map.bounding_box()
    assert box is not None
    # Corners clear of the map's controls (zoom top left, attribution bottom right).
    desk_map.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.2})
    desk_map.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.7})
    assert page.get_by_label("South").input_value() != ""
    page.get_by_role("button", name="Show these").click()
    expect(page.locator("[data-filter-summary]")).to_contain_text("inside a box")
    # The box holds the map's centre (the structure fire), not the collision 6.6 km north.
    expect(page.locator("li[data-item]")).to_have_count(1)
    expect(page.locator("li[data-item]")).to_contain_text("Structure fire")
    page.screenshot(path=str(artifacts / "operator_desk_box_1280.png"), full_page=True)
    # The one refusal (the form sent with no area) answers 422 by design; nothing else failed.
    assert [e for e in errors if "422" not in e] == []
    context.close()
