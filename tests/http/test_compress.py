"""Pages and feeds travel compressed when the client asks (brotli first, else gzip); the live
stream never waits on a compressor."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings
from tests.support.waiting import wait_for
from townsquare.app import create_app
from townsquare.http.compress import accepts
from townsquare.platform import Platform

AREA = "lat=47.61&lon=-122.33&radius_m=2000"


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app) as client:
        yield client


def raw(client: TestClient, path: str, coding: str) -> tuple[bytes, dict[str, str]]:
    """The body as it travelled (not decoded by the client) and the headers."""
    with client.stream("GET", path, headers={"Accept-Encoding": coding}) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw()), dict(response.headers)


def same_document(a: bytes, b: bytes) -> bool:
    """The same document, whole; a page's form tokens differ between requests."""
    return a[:15] == b[:15] and a[-200:] == b[-200:] and abs(len(a) - len(b)) < 64


@pytest.mark.parametrize("path", ["/", f"/api/v1/incidents?{AREA}", f"/feeds/atom?{AREA}"])
def test_pages_and_feeds_are_compressed_when_asked(
    client: TestClient, factory: sessionmaker[Session], path: str
) -> None:
    for _ in range(5):
        add_incident(factory)
    feed = f"/api/v1/incidents?{AREA}"
    wait_for(lambda: len(client.get(feed).json()["features"]) == 5, what="5 incidents in the feed")
    plain, plain_headers = raw(client, path, "identity")
    assert "content-encoding" not in plain_headers
    squeezed, headers = raw(client, path, "gzip, deflate, br")
    assert headers["content-encoding"] == "br"
    assert "Accept-Encoding" in headers["vary"]
    assert same_document(brotli.decompress(squeezed), plain)
    zipped, headers = raw(client, path, "gzip")
    assert headers["content-encoding"] == "gzip"
    assert same_document(gzip.decompress(zipped), plain)
    assert len(squeezed) < len(plain) / 2
    print(f"{path}: {len(plain)} B plain, {len(zipped)} B gzip, {len(squeezed)} B brotli")


def test_the_live_stream_is_not_compressed(client: TestClient) -> None:
    with client.stream(
        "GET", f"/api/v1/stream?{AREA}", headers={"Accept-Encoding": "br, gzip"}
    ) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    ("header", "coding", "taken"),
    [("gzip, br", "br", True), ("br;q=0, gzip", "br", False), ("GZIP", "gzip", True)],
)
def test_a_coding_refused_with_q_zero_is_not_used(header: str, coding: str, taken: bool) -> None:
    assert accepts(header, coding) is taken
