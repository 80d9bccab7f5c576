"""A real server over real sample data, and Debian's Chromium driven by Playwright.

The store is built once per session: migrated SQLite, the shipped Seattle and San Francisco
sample feeds ingested with their times compressed onto the recent past (as `townsquare
replay` does), so the pages show them as current. The server is uvicorn on a free loopback
port in a thread, serving `create_app(settings)` exactly as `townsquare serve` does.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from pydantic import SecretStr
from sqlalchemy import func, select

from townsquare.app import create_app
from townsquare.db import make_engine, make_sessionmaker, utcnow
from townsquare.events.outbox import OutboxEvent
from townsquare.ingest import service as ingest_service
from townsquare.ingest.cli import compress_to_now
from townsquare.ingest.config import SourceConfig, load_source_config
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.sources.registry import adapter_for
from townsquare.migrations import runner
from townsquare.settings import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "townsquare"
MAPPINGS = PACKAGE / "ingest" / "mappings"
VENDOR = PACKAGE / "web" / "static" / "vendor"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# (mapping file, time compression): as `make run` replays them.
SAMPLES = (("seattle_fire_911.toml", 2000.0), ("sf_fire_calls.toml", 100.0))
START_TIMEOUT_S = 30.0
RELAY_TIMEOUT_S = 120.0  # the backlog of the sample store, on a busy machine


@dataclass(frozen=True)
class LiveServer:
    """Where the server listens."""

    url: str


def sample_times(config: SourceConfig) -> list[datetime]:
    """When each usable record of a source happened, in sample time."""
    times: list[datetime] = []
    for item in adapter_for(config.kind).fetch(config):
        try:
            times.append(normalize(item, config).occurred_at)
        except NormalizeError:
            continue
    return times


def build_store(url: str) -> None:
    """Migrate the store and replay every sample source onto the recent past."""
    engine = make_engine(url)
    runner.upgrade(engine)
    factory = make_sessionmaker(engine)
    for mapping, speed in SAMPLES:
        config = load_source_config(MAPPINGS / mapping)
        now = utcnow()
        retime = compress_to_now(max(sample_times(config)), now, speed)
        ingest_service.ingest(factory, config, now=now, retime=retime)
    engine.dispose()


def wait_until_relayed(url: str, deadline: float) -> None:
    """Let the server announce the store's backlog first: pages open on a quiet feed.

    Every incident ingested while building the store waits in the outbox; the server relays
    them at start, and a page open meanwhile would reload its list live at each one.
    """
    engine = make_engine(url)
    try:
        while True:
            with engine.connect() as connection:
                waiting = connection.scalar(
                    select(func.count()).where(OutboxEvent.relayed_at.is_(None))
                )
            if not waiting:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the test server left {waiting} events unrelayed")
            time.sleep(0.1)
    finally:
        engine.dispose()


def mailing_settings(url: str, data_dir: Path, site: str, smtp_port: int, **extra: Any) -> Settings:
    """Settings of a test site whose account mail goes to the local SMTP server on `smtp_port`."""
    return Settings(
        database_url=SecretStr(url),
        data_dir=data_dir,
        tile_url="",
        public_url=site,
        account_mail="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        secret_key=SecretStr("e2e secret"),
        **extra,
    )


@contextmanager
def serving(settings_for: Callable[[str], Settings]) -> Iterator[str]:
    """`create_app` served by uvicorn on a free loopback port, as `townsquare serve` does.

    `settings_for` gets the site's own URL (some settings, such as mailed links, name it).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        site = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(settings_for(site))
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("the test server did not start")
            time.sleep(0.05)
        try:
            yield site
        finally:
            server.should_exit = True
            thread.join(timeout=10)


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
        wait_until_relayed(url, time.monotonic() + RELAY_TIMEOUT_S)
        yield LiveServer(site)


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


@dataclass
class Watched:
    """A page, with every request it made and every console error it logged."""

    page: Page
    requests: list[str]
    errors: list[str]


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
