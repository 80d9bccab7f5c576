"""The browser tests' site: a store built from real sample data, its settings, page helpers.

The store is migrated SQLite with the shipped Seattle and San Francisco sample feeds ingested,
their times compressed onto the recent past (as `townsquare replay` does), so the pages show
them as current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.support.residents import PASSWORD
from tests.support.waiting import wait_for
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
# (mapping file, time compression): as `make run` replays them.
SAMPLES = (("seattle_fire_911.toml", 2000.0), ("sf_fire_calls.toml", 100.0))


@dataclass(frozen=True)
class LiveServer:
    """Where the server listens, and its store."""

    url: str
    database_url: str = ""


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


def wait_until_relayed(url: str, timeout: float) -> None:
    """Let the server announce the store's backlog first: pages open on a quiet feed.

    Every incident ingested while building the store waits in the outbox; the server relays
    them at start, and a page open meanwhile would reload its list live at each one.
    """
    engine = make_engine(url)

    def relayed() -> bool:
        with engine.connect() as connection:
            return not connection.scalar(
                select(func.count()).where(OutboxEvent.relayed_at.is_(None))
            )

    try:
        wait_for(relayed, timeout=timeout, what="the test server to relay the store's backlog")
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


@dataclass
class Watched:
    """A page, with every request it made and every console error it logged."""

    page: Page
    requests: list[str]
    errors: list[str]


def sign_in_on_page(page: Page, email: str) -> None:
    """The password step of the sign-in page the browser is on."""
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
