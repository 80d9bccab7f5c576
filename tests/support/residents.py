"""Shared fixtures and helpers of the resident tests: the app, a real SMTP server, accounts.

Accounts are made the way a person makes them: sign-up over the API, the verification link
read from the message the local SMTP server received, sign-in for a session cookie.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from townsquare.accounts import grants
from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings

PASSWORD = "correct horse battery"


@dataclass
class Mailbox:
    """aiosmtpd handler keeping every message."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def link(self, to: str, path: str) -> str:
        """The token of the last `path` link mailed to `to`."""
        with self.lock:
            found = [raw for _, rcpt, raw in self.messages if to.lower() in rcpt]
        assert found, f"no mail to {to}"
        body = message_from_bytes(found[-1]).get_payload(decode=True)
        assert isinstance(body, bytes)
        match = re.search(rf"{path}\?token=([\w-]+)", body.decode())
        assert match, body
        return match.group(1)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback."""
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it cannot take 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def resident_settings(engine: Engine, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Settings:
    """Settings over the test store, mailing through the local SMTP server."""
    url = engine.url.render_as_string(hide_password=False)
    return Settings(
        database_url=SecretStr(url),
        data_dir=tmp_path,
        account_mail="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        secret_key=SecretStr("test secret"),
    )


@contextmanager
def app_with(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], **changes: Any
) -> Iterator[TestClient]:
    """A client of the whole app (lifespan run) under `settings` with `changes`."""
    platform = Platform(settings.model_copy(update=changes), engine, factory)
    with TestClient(create_app(platform=platform)) as client:
        yield client


@pytest.fixture
def app_client(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """A client of the whole app (lifespan run)."""
    with app_with(resident_settings, engine, factory) as client:
        yield client


@pytest.fixture
def jobless_client(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The app with no media job of its own: a clip stays `processing` until a test runs it."""
    with app_with(resident_settings, engine, factory, media_jobs=0) as client:
        yield client


@dataclass
class Person:
    """A signed-in person: their client, CSRF header and account id."""

    client: TestClient
    email: str
    account_id: int
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        """Headers of an unsafe request from this session."""
        return {"X-CSRF-Token": self.csrf}

    def post(self, url: str, **kwargs: Any) -> Any:
        """POST with the session's CSRF token."""
        return self.client.post(url, headers=self.headers, **kwargs)


def sign_up(client: TestClient, box: Mailbox, email: str) -> int:
    """Sign up and follow the verification link mailed to `email`."""
    response = client.post("/api/v1/account/sign-up", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    token = box.link(email, "/verify")
    assert client.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    return int(response.json()["id"])


def sign_in(client: TestClient, email: str, totp: str | None = None) -> Person:
    """Sign in on a fresh cookie jar of the same app."""
    fresh = TestClient(client.app)
    body: dict[str, str] = {"email": email, "password": PASSWORD}
    if totp:
        body["totp"] = totp
    response = fresh.post("/api/v1/account/sign-in", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    return Person(fresh, email, data["account_id"], data["csrf_token"])


def resident(client: TestClient, box: Mailbox, email: str) -> Person:
    """A verified, signed-in resident."""
    sign_up(client, box, email)
    return sign_in(client, email)


def privileged(
    client: TestClient,
    box: Mailbox,
    factory: sessionmaker[Session],
    email: str,
    role: str,
    at: datetime,
    agency: str | None = None,
) -> Person:
    """A signed-in account with `role`, two-factor enrolled and used, as an operator grants it."""
    person = resident(client, box, email)
    with factory() as session:
        grants.grant_role(session, email, role, actor_id=None, agency=agency)
    secret = person.post("/api/v1/account/totp").json()["secret"]
    totp = pyotp.TOTP(secret)
    code = totp.at(at)
    assert person.post("/api/v1/account/totp/confirm", json={"code": code}).status_code == 204
    # The next sign-in needs a code of a later time step: a code is accepted once.
    return sign_in(client, email, totp.at(at, counter_offset=1))
