"""Every body that cannot be parsed is the client's error, answered as problem+json naming
the field: malformed JSON, a JSON route sent another content type, a broken form or
multipart body; Open311 answers its own error format for a file part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings

PROBLEM = "application/problem+json"
SIGN_IN = "/api/v1/account/sign-in"


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test store."""
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as running:
        yield running


CASES = {
    "malformed json": (SIGN_IN, {"Content-Type": "application/json"}, b'{"email": "a@b.c", '),
    "json as text": (SIGN_IN, {"Content-Type": "text/plain"}, b'{"email": "a@b.c"}'),
    "json as a form": (SIGN_IN, {"Content-Type": "application/x-www-form-urlencoded"}, b"email=a"),
    "json not an object": (SIGN_IN, {"Content-Type": "application/json"}, b"[1, 2]"),
    "json not utf-8": (SIGN_IN, {"Content-Type": "application/json"}, b'{"email": "\xff"}'),
    "multipart without a boundary": ("/sign-up", {"Content-Type": "multipart/form-data"}, b"x"),
}


@pytest.mark.parametrize("case", CASES)
def test_unparsable_bodies_are_problems_naming_the_field(client: TestClient, case: str) -> None:
    path, headers, body = CASES[case]
    answer = client.post(path, content=body, headers=headers)
    print(case, answer.status_code, answer.headers.get("content-type"), answer.text[:300])
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["parameter"] == "body"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_file_part_is_a_georeport_400(client: TestClient, fmt: str) -> None:
    answer = client.post(
        f"/open311/v2/requests.{fmt}",
        data={"service_code": "pothole", "description": "a hole"},
        files={"media": ("hole.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    assert answer.status_code == 400
    if fmt == "json":
        (error,) = answer.json()
        assert error["code"] == 400
        assert error["description"].startswith("body: ")
    else:
        assert answer.headers["content-type"].startswith("text/xml")
        assert b"<code>400</code>" in answer.content
        assert b"<description>body: " in answer.content
