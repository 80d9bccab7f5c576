"""What the page-wide browser checks share: a signed-in visitor's cookie planted in the store,
axe-core run in a page, and the width a page takes.

axe-core comes from node_modules/ (a dev dependency): it is injected by the test only, never
served to visitors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support.footage import make_agency
from townsquare.accounts import security
from townsquare.accounts.models import Account, AccountSession
from townsquare.db import make_engine, make_sessionmaker, utcnow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks, with how bad and the first elements it found."""

    rule: str
    impact: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.rule}: {', '.join(self.targets)}"


def plant_session(url: str, email: str, roles: list[str]) -> str:
    """An account holding `roles` (in a new verified agency when it is agency staff), signed in
    with two factors; returns the session cookie's value."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    agency_id = None
    if any(role.startswith("agency_") for role in roles):
        agency_id = make_agency(factory, email.split("@")[0] + "-fire")
    now = utcnow()
    token, hashed = security.new_secret()
    csrf, _ = security.new_secret()
    with factory() as session:
        account = Account(
            email=email,
            password_hash="!",  # no password: this visitor only ever has the cookie
            roles=roles,
            agency_id=agency_id,
            email_verified_at=now,
            totp_enabled=True,
            created_at=now,
        )
        session.add(account)
        session.flush()
        session.add(
            AccountSession(
                account_id=account.id,
                token_hash=hashed,
                csrf_token=csrf,
                second_factor=True,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
        session.commit()
    engine.dispose()
    return token


@cache
def axe_source() -> str:
    """axe-core's script, from node_modules/."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} missing: run `npm ci`")
    return AXE.read_text("utf-8")


def axe_violations(page: Page) -> list[Violation]:
    """The critical and serious WCAG A/AA violations axe-core finds in the page as it is now.

    The page's context must bypass CSP: axe is injected as an inline script.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        """tags => axe.run(document, {resultTypes: ['violations'],
                                     runOnly: {type: 'tag', values: tags}})
           .then(r => r.violations.map(v => ({rule: v.id, impact: v.impact,
             targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""",
        TAGS,
    )
    return [
        Violation(v["rule"], v["impact"], tuple(v["targets"]))
        for v in found
        if v["impact"] in BLOCKING
    ]


def overflow_px(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    width: int = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return max(width, 0)


TILES = ".basemap-tiles canvas.leaflet-tile-loaded"
COLOURS_OF_STREETS = 8  # distinct colours on a drawn tile; a bare background has 1


def drawn_tiles(page: Page) -> int:
    """How many basemap tiles show more than a background fill."""
    count: int = page.locator(TILES).evaluate_all(
        """(tiles, least) => tiles.filter(tile => {
             const data = tile.getContext("2d").getImageData(0, 0, tile.width, tile.height).data;
             const seen = new Set();
             for (let i = 0; i < data.length && seen.size < least; i += 4 * 97) {
               seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
             }
             return seen.size >= least;
           }).length""",
        COLOURS_OF_STREETS,
    )
    return count
