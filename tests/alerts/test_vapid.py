"""The server's Web Push keys: made on first start, kept sealed in the store, shared by nodes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support.alerts import alert_settings
from townsquare.alerts.vapid import new_vapid_keys
from townsquare.app import create_app
from townsquare.db import make_engine, make_sessionmaker
from townsquare.platform import Platform
from townsquare.settings import Settings


def _public_key(engine_url: str, settings: Settings) -> str:
    """Start a server process on the store (a fresh engine: a restart) and ask its key."""
    engine = make_engine(engine_url)
    try:
        app = create_app(platform=Platform(settings, engine, make_sessionmaker(engine)))
        with TestClient(app) as client:
            answer = client.get("/api/v1/push/key")
            assert answer.status_code == 200, answer.text
            return str(answer.json()["public_key"])
    finally:
        engine.dispose()


def test_keys_are_made_once_kept_sealed_and_shared_by_every_node(
    engine: Engine, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = alert_settings(tmp_path, secret_key="nodes' shared secret")
    first = _public_key(url, settings)
    assert _public_key(url, settings) == first  # after a restart: the same key
    assert _public_key(url, alert_settings(tmp_path / "b", secret_key="nodes' shared secret")) == (
        first
    )  # another node with its own data folder: the same key, from the store
    with engine.connect() as db:
        stored = db.execute(text("SELECT private_key, public_key FROM alert_vapid_key")).all()
    assert len(stored) == 1
    assert stored[0][1] == first
    assert stored[0][0].startswith("sealed1:")  # the private half is never in clear


def test_keys_named_in_the_settings_win(engine: Engine, tmp_path: Path) -> None:
    keys = new_vapid_keys()
    url = engine.url.render_as_string(hide_password=False)
    settings = alert_settings(
        tmp_path, vapid_private_key=keys.private_key, vapid_public_key=keys.public_key
    )
    assert _public_key(url, settings) == keys.public_key
