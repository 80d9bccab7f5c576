"""A resident of the local demo, in a real browser, from a fresh store with `make run`'s
settings (console mail, the local outbox on): Report sends them to sign in, they sign up, open
the link from /dev/outbox, come back to the report form; then change the password on /account,
sign in with the new one, and delete the account, after which signing in fails.

Screenshots of /account, the outbox and the sign-in page at 390 and 1280 px go to
tests/e2e/artifacts/; each is checked with axe-core and for overflow at both widths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from tests.support.browsing import axe_violations, overflow_px
from tests.support.server import serving
from townsquare.db import make_engine
from townsquare.migrations import runner
from townsquare.settings import Settings

pytestmark = pytest.mark.e2e

EMAIL = "ada@example.org"
FIRST = "correct horse battery"
SECOND = "a different long one"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """The app over a fresh store, with the settings `make run` gives (the outbox on)."""
    url = f"sqlite:///{tmp_path / 'townsquare.db'}"
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()

    def settings_for(site: str) -> Settings:
        return Settings(
            database_url=SecretStr(url),
            data_dir=tmp_path,
            tile_url="",
            public_url=site,
            dev_outbox=True,
        )

    with serving(settings_for) as site:
        yield site


def shoot(page: Page, name: str, artifacts: Path) -> list[str]:
    """Screenshots of the open page at both widths; what is wrong with it, in words."""
    problems = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(artifacts / f"account-{name}-{size}.png"), full_page=True)
        problems += [f"{name} {size}: {v}" for v in axe_violations(page)]
        if overflow_px(page):
            problems.append(f"{name} {size}: {overflow_px(page)}px wider than the window")
    return problems


def sign_in(page: Page, password: str) -> None:
    """Fill and send the sign-in form now open."""
    page.get_by_label("E-mail address", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_sign_up_confirm_report_change_password_delete(
    demo: str, browser: Browser, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []

    page.goto(demo + "/")
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Sign in to report what you saw.")
    problems += shoot(page, "sign-in", artifacts)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(FIRST)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    page.goto(demo + "/dev/outbox")
    expect(page.get_by_text("Confirm your Townsquare address")).to_be_visible()
    problems += shoot(page, "outbox", artifacts)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(".mail-body a[href*='/verify?token=']").first.click()
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    sign_in(page, FIRST)
    expect(page).to_have_url(demo + "/posts/new")
    expect(page.get_by_role("heading", name="Report something you saw")).to_be_visible()
    expect(page.get_by_text("Confirm your e-mail address")).to_have_count(0)

    page.goto(demo + "/account")
    problems += shoot(page, "page", artifacts)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Current password").fill(FIRST)
    page.get_by_label("New password").fill(SECOND)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("status").first).to_contain_text("Your password is changed.")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.goto(demo + "/sign-in")
    sign_in(page, SECOND)
    expect(page).to_have_url(demo + "/account")

    page.locator("#delete-password").fill(SECOND)
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    page.goto(demo + "/sign-in")
    sign_in(page, SECOND)
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    context.close()
    assert problems == []
