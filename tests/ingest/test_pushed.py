"""Hostile pushed bodies (malformed, a DTD, nesting thousands deep) are the sender's fault:
a 400 problem+json naming the field, never a 502 or a 500, and nothing stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import config
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig, bundled_mappings, load_source_config
from townsquare.ingest.pushed import sign
from townsquare.platform import Platform
from townsquare.settings import Settings

KEY, SECRET = "key-77e1", "secret-90ab"
DEEP = 100_000
"""Far past any stack: what broke the decoder (JSON) and the column reader (XML)."""
CAP = Path(__file__).parents[1] / "data" / "cap_alerts" / "v1dot2_appendix_adot3.xml"
PUSH = {"key_env": "TEST_PUSH_KEY", "secret_env": "TEST_PUSH_SECRET"}


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test store."""
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as running:
        yield running


def _source(fmt: str) -> SourceConfig:
    if fmt == "cap":  # the shipped CAP mapping, receiving pushes instead of fetching
        shipped = load_source_config(bundled_mappings()["nws_cap_alerts"]).model_dump()
        changed = {"slug": "test-push-cap", "kind": "push", "location": ""}
        return SourceConfig.model_validate(shipped | changed | {"push": {"format": "cap"} | PUSH})
    return config("push", "", slug="test-push-json", push={"format": "json"} | PUSH)


def _cap_nested(levels: int) -> bytes:
    deep = "<parameter>" + "<x>" * levels + "1" + "</x>" * levels + "</parameter>"
    return CAP.read_text().replace("<info>", "<info>" + deep, 1).encode()


CASES: dict[str, tuple[str, bytes, str]] = {
    "xml malformed": ("cap", b"<alert><info>", "body"),
    "xml with a DTD": ("cap", b'<!DOCTYPE a [<!ENTITY x "y">]><alert>&x;</alert>', "body"),
    "xml nested, not an alert": ("cap", b"<a>" * DEEP + b"</a>" * DEEP, "body"),
    "cap alert nested": ("cap", _cap_nested(DEEP), "cap:info.cap:parameter.cap:x.cap:x."),
    "json malformed": ("json", b'[{"incident_number": ', "body"),
    "json nested lists": ("json", b"[" * DEEP + b"]" * DEEP, "body"),
    "json record nested": ("json", b"[" + b'{"a":' * 200 + b"1" + b"}" * 200 + b"]", "a.a.a."),
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_bodies_are_client_errors_naming_the_field(
    client: TestClient,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    fmt, body, parameter = CASES[case]
    monkeypatch.setenv("TEST_PUSH_KEY", KEY)
    monkeypatch.setenv("TEST_PUSH_SECRET", SECRET)
    source = _source(fmt)
    with transaction(factory) as session:
        service.ensure_source(session, source)
    stamp = int(time.time())
    headers = {
        "X-Townsquare-Key": KEY,
        "X-Townsquare-Timestamp": str(stamp),
        "X-Townsquare-Signature": sign(SECRET, stamp, body),
    }
    answer = client.post(f"/api/v1/sources/{source.slug}/records", content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["title"] == "Invalid body"
    assert problem["parameter"].startswith(parameter)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
