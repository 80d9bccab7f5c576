"""A real server over real sample data, and Debian's Chromium driven by Playwright.

The store is built once per session (tests/support/e2e.py). The server is uvicorn on a free
loopback port in a thread, serving `create_app(settings)` exactly as `townsquare serve` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from pydantic import SecretStr

from tests.support.e2e import PACKAGE, LiveServer, Watched, build_store, wait_until_relayed
from tests.support.server import serving
from townsquare.settings import Settings

VENDOR = PACKAGE / "web" / "static" / "vendor"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RELAY_TIMEOUT_S = 120.0  # the backlog of the sample store, on a busy machine


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The whole app over the sample data, served by uvicorn on a free loopback port."""
    if not (VENDOR / "leaflet" / "leaflet.js").is_file():
        pytest.fail(f"{VENDOR} is empty: run `make install` (npm ci + scripts/vendor_static.py)")
    data_dir = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{data_dir / 'townsquare.db'}"
    build_store(url)
    settings = Settings(database_url=SecretStr(url), data_dir=data_dir, tile_url="")
    with serving(lambda site: settings) as site:
        wait_until_relayed(url, RELAY_TIMEOUT_S)
        yield LiveServer(site, url)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browser download cannot work offline)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `make system-deps` installs Debian's chromium")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh desktop-sized page whose requests and console errors are recorded."""
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    found = Watched(page, [], [])
    page.on("request", lambda request: found.requests.append(request.url))
    page.on("console", lambda m: found.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: found.errors.append(str(error)))
    yield found
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
