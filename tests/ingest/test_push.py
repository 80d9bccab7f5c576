"""Records pushed to /api/v1/sources/{slug}/records: signed, fresh, once; health on the API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import config
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.pushed import sign
from townsquare.platform import Platform
from townsquare.settings import Settings

KEY, SECRET = "key-3f9a", "secret-1c2d"


@pytest.fixture
def pushed(factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> SourceConfig:
    """A registered push source reading JSON records, its credentials in the environment."""
    monkeypatch.setenv("TEST_PUSH_KEY", KEY)
    monkeypatch.setenv("TEST_PUSH_SECRET", SECRET)
    source = config(
        "push",
        "",
        push={"format": "json", "key_env": "TEST_PUSH_KEY", "secret_env": "TEST_PUSH_SECRET"},
    )
    with transaction(factory) as session:
        service.ensure_source(session, source)
    return source


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test store."""
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as running:
        yield running


def _signed(body: bytes, *, stamp: int | None = None, key: str = KEY) -> dict[str, str]:
    moment = int(time.time()) if stamp is None else stamp
    return {
        "X-Townsquare-Key": key,
        "X-Townsquare-Timestamp": str(moment),
        "X-Townsquare-Signature": sign(SECRET, moment, body),
        "Content-Type": "application/json",
    }


def _calls(*numbers: str) -> bytes:
    records: list[dict[str, Any]] = [
        {
            "incident_number": n,
            "type": "Motor Vehicle Accident",
            "datetime": "2026-11-28T03:05:00-08:00",
            "address": "1500 Pine St",
            "latitude": "47.6150",
            "longitude": "-122.3300",
        }
        for n in numbers
    ]
    return json.dumps(records).encode()


def _incidents(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_a_signed_push_is_ingested_once(
    client: TestClient, pushed: SourceConfig, factory: sessionmaker[Session]
) -> None:
    body = _calls("P1", "P2")
    headers = _signed(body)
    url = f"/api/v1/sources/{pushed.slug}/records"
    accepted = client.post(url, content=body, headers=headers)
    assert accepted.status_code == 202
    assert accepted.json()["created"] == 2
    replay = client.post(url, content=body, headers=headers)
    assert replay.status_code == 409
    assert "replay" in replay.json()["detail"]
    listed = {s["slug"]: s for s in client.get("/api/v1/sources").json()}
    assert listed[pushed.slug]["status"] == "ok"
    assert "last_error" not in listed[pushed.slug]  # details are for operators
    assert _incidents(factory) == 2


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("key", 401),
        ("signature", 401),
        ("stale", 401),
        ("future", 401),
        ("body", 401),
    ],
)
def test_bad_credentials_are_refused(
    client: TestClient,
    pushed: SourceConfig,
    factory: sessionmaker[Session],
    tamper: str,
    status: int,
) -> None:
    body = _calls("P9")
    now = int(time.time())
    headers = _signed(body)
    if tamper == "key":
        headers = _signed(body, key="guess")
    elif tamper == "signature":
        headers["X-Townsquare-Signature"] = "sha256=" + "0" * 64
    elif tamper in {"stale", "future"}:
        headers = _signed(body, stamp=now + (-1 if tamper == "stale" else 1) * 3600)
    elif tamper == "body":
        body = _calls("P10")  # signed for another body
    answer = client.post(f"/api/v1/sources/{pushed.slug}/records", content=body, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert _incidents(factory) == 0


def test_too_large_and_unknown_sources(client: TestClient, pushed: SourceConfig) -> None:
    big = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    answer = client.post(
        f"/api/v1/sources/{pushed.slug}/records", content=big, headers=_signed(big)
    )
    assert answer.status_code == 413
    missing = client.post("/api/v1/sources/nope/records", content=b"[]", headers=_signed(b"[]"))
    assert missing.status_code == 404
