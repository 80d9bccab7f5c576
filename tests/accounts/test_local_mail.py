"""A resident of the local demo can finish signing up without a mail server: the outbox page
and the log show the link; `townsquare users verify` confirms by hand. A deployment-like
configuration has no outbox and logs no link."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.support.pages import value
from tests.support.residents import PASSWORD
from townsquare.accounts.models import Account
from townsquare.app import create_app
from townsquare.cli import app
from townsquare.platform import Platform
from townsquare.settings import Settings

LOCAL: dict[str, Any] = {"account_mail": "console", "dev_outbox": True}
THIS_MACHINE = ("127.0.0.1", 50000)


@contextmanager
def app_with(
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    client: tuple[str, int] = THIS_MACHINE,
    **changes: Any,
) -> Iterator[TestClient]:
    """The whole app under `settings` with `changes`, visited from `client`'s address."""
    platform = Platform(settings.model_copy(update=changes), engine, factory)
    with TestClient(create_app(platform=platform), client=client) as test_client:
        yield test_client


def _sign_up(client: Any, email: str) -> None:
    form = client.get("/sign-up")
    token = value(form.text, "form_token")
    sent = client.post("/sign-up", data={"form_token": token, "email": email, "password": PASSWORD})
    assert sent.status_code == 200, sent.text


def _verified(factory: sessionmaker[Session], email: str) -> bool:
    with factory() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        return account.email_verified_at is not None


def test_the_local_outbox_lists_the_link_that_confirms_a_new_account(
    resident_settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with app_with(resident_settings, engine, factory, **LOCAL) as client:
        assert "No mail yet" in client.get("/dev/outbox").text
        with caplog.at_level(logging.INFO, logger="townsquare.mail"):
            _sign_up(client, "ada@example.org")
        outbox = client.get("/dev/outbox")
        assert outbox.status_code == 200
        links = re.findall(r'<a href="(http://[^"]+/verify\?token=[\w-]+)"', outbox.text)
        assert len(links) == 1
        assert "To ada@example.org" in outbox.text
        # The log has the whole message, its link included.
        assert any(links[0] in record.getMessage() for record in caplog.records)
        path = links[0].split("8000", 1)[1]
        token = path.split("token=", 1)[1]
        assert client.get(path).status_code == 200
        assert client.post("/verify", data={"token": token}).status_code == 200
    assert _verified(factory, "ada@example.org")


def test_the_outbox_keeps_the_newest_first(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    with app_with(resident_settings, engine, factory, **LOCAL) as client:
        _sign_up(client, "first@example.org")
        _sign_up(client, "second@example.org")
        text = client.get("/dev/outbox").text
    assert text.index("To second@example.org") < text.index("To first@example.org")


@pytest.mark.parametrize(
    "production",
    [
        {"dev_outbox": False},
        {"public_url": "https://town.example.org"},
        {"host": "0.0.0.0"},
        {"public_url": "http://town.example.org"},
        {"account_mail": "smtp"},
    ],
    ids=["setting-off", "https-site", "bound-to-all", "public-host", "smtp"],
)
def test_a_deployment_like_configuration_has_no_outbox_and_logs_no_link(
    resident_settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    production: dict[str, Any],
) -> None:
    with app_with(resident_settings, engine, factory, **(LOCAL | production)) as client:
        with caplog.at_level(logging.INFO, logger="townsquare.mail"):
            # The API: an https site's form cookie is not sent back over the test's http.
            body = {"email": "ada@example.org", "password": PASSWORD}
            assert client.post("/api/v1/account/sign-up", json=body).status_code == 201
        assert client.get("/dev/outbox").status_code == 404
    assert not any("token=" in record.getMessage() for record in caplog.records)
    assert not (resident_settings.data_dir / "outbox").exists()


def test_the_outbox_is_only_for_a_browser_on_the_same_machine(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    with app_with(resident_settings, engine, factory, **LOCAL) as client:
        assert client.get("/dev/outbox").status_code == 200
        relayed = {"X-Forwarded-For": "203.0.113.9"}
        assert client.get("/dev/outbox", headers=relayed).status_code == 404
    remote = ("192.0.2.7", 50000)
    with app_with(resident_settings, engine, factory, remote, **LOCAL) as client:
        assert client.get("/dev/outbox").status_code == 404


def _users_verify(engine: Engine, tmp_path: Path, email: str) -> tuple[int, str]:
    url = engine.url.render_as_string(hide_password=False)
    env = {
        "TOWNSQUARE_DATABASE_URL": url,
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_SECRET_KEY": "test secret",
    }
    result = CliRunner().invoke(app, ["users", "verify", email], env=env)
    return result.exit_code, result.output


def test_users_verify_confirms_an_address_by_hand(
    resident_settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    with app_with(resident_settings, engine, factory, account_mail="null") as client:
        _sign_up(client, "ada@example.org")
    assert not _verified(factory, "ada@example.org")
    code, output = _users_verify(engine, tmp_path, "Ada@Example.org")
    assert (code, output.strip()) == (0, "Ada@Example.org is confirmed")
    assert _verified(factory, "ada@example.org")
    code, output = _users_verify(engine, tmp_path, "ada@example.org")
    assert (code, output.strip()) == (0, "ada@example.org was already confirmed")
    code, output = _users_verify(engine, tmp_path, "nobody@example.org")
    assert code == 1
    assert "no account has this e-mail" in output
