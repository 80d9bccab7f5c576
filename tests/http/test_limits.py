"""Oversized bodies to every kind of write route, over real HTTP: 413 while streaming, and no
upload read (or written anywhere) before its sender is known.

A real server (uvicorn) on loopback; bodies are sent by hand on a socket, chunked with no
Content-Length or with one declared, 200 MB in all, and the sender stops as soon as an answer
arrives: how much was sent shows how much the server took in.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.ingest.test_kinds import config
from tests.support.residents import Mailbox, resident
from tests.support.server import running
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.ingest import service as ingest
from townsquare.platform import Platform
from townsquare.settings import Settings

MB = 1_000_000
HOSTILE = 200 * MB
CHUNK = 64 * 1024
LIMITS = {
    "max_json_body_bytes": 64 * 1024,
    "max_form_body_bytes": 64 * 1024,
    "max_push_body_bytes": 128 * 1024,
    "media_max_image_bytes": 1 * MB,
    "media_max_video_bytes": 2 * MB,
}
TAKEN_IN = 16 * MB
"""At most this much of a refused body may leave the client: socket buffers, not the body."""
BOUNDARY = "hostileboundary"


@dataclass
class Answer:
    """What the server said, and how many body bytes the client got out before it did."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent: int

    def json(self) -> dict[str, object]:
        """The body as JSON."""
        found: dict[str, object] = json.loads(self.body)
        return found


def _body(prefix: bytes, total: int) -> Iterator[bytes]:
    yield prefix
    sent = len(prefix)
    filler = b"A" * CHUNK
    while sent < total:
        piece = filler[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


def send(
    base: str,
    path: str,
    content_type: str,
    prefix: bytes = b"",
    *,
    total: int = HOSTILE,
    declare: bool = False,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST `total` bytes (`prefix`, then filler) chunked, or with Content-Length if `declare`."""
    url = urlsplit(base)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Type: {content_type}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {total}" if declare else "Transfer-Encoding: chunked")
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            for piece in _body(prefix, total):
                if select.select([conn], [], [], 0)[0]:
                    break  # answered: stop sending, as a client reading its socket would
                conn.sendall(piece if declare else b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            else:
                if not declare:
                    conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed after answering
        return _read(conn, sent)


def _read(conn: socket.socket, sent: int) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(65536)
        assert got, f"no answer after {sent} bytes sent"
        data += got
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        got = conn.recv(65536)
        if not got:
            break
        rest += got
    return Answer(int(status_line.split()[1]), headers, rest[:length], sent)


def multipart_head(field: str = "file", filename: str = "photo.jpg") -> bytes:
    """The start of a multipart body whose one file part then runs on (JPEG magic first)."""
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode() + b"\xff\xd8\xff\xe0"


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder` (none if it does not exist)."""
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def server(
    resident_settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> Iterator[tuple[str, Platform]]:
    """The app on a real server with small limits (the defaults are 1 MiB and the media's)."""
    platform = Platform(resident_settings.model_copy(update=LIMITS), engine, factory)
    with running(platform) as base:
        yield base, platform


def _expect_413(answer: Answer, kind: str, limit: int, label: str) -> None:
    assert answer.status == 413, (label, answer.status, answer.body[:300])
    assert answer.headers["content-type"] == "application/problem+json", label
    assert answer.json()["detail"] == f"{kind} up to {limit} bytes", label
    assert answer.sent < TAKEN_IN, (label, answer.sent)


def test_anonymous_uploads_are_refused_before_their_body_is_read(
    server: tuple[str, Platform], resident_settings: Settings
) -> None:
    base, _ = server
    media = Path(resident_settings.data_dir) / "media"
    for declare in (False, True):
        answer = send(base, "/api/v1/media", MULTIPART, multipart_head(), declare=declare)
        assert answer.status == (413 if declare else 401), (declare, answer.body[:300])
        assert answer.sent < TAKEN_IN, (declare, answer.sent)
        assert files_under(media) == []
    # Open311: a wrong api_key in the query is refused before the body; none at all, at the
    # form limit; a file part (a report carries none) before it is spooled.
    bad_key = send(
        base,
        "/open311/v2/requests.json?api_key=nope",
        "application/x-www-form-urlencoded",
        b"service_code=x&description=",
    )
    assert bad_key.status == 403, bad_key.body[:300]
    assert bad_key.sent < TAKEN_IN
    # In the body, as GeoReport clients send it: refused once its field is complete, not
    # after the whole form (which would end at the form limit with 413).
    body_key = send(
        base,
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        b"api_key=nope&service_code=x&description=",
    )
    assert body_key.status == 403, body_key.body[:300]
    assert body_key.sent < TAKEN_IN
    no_key = send(
        base, "/open311/v2/requests.json", "application/x-www-form-urlencoded", b"description="
    )
    _expect_413(no_key, "forms", LIMITS["max_form_body_bytes"], "open311 without a key")
    with_file = send(base, "/open311/v2/requests.json", MULTIPART, multipart_head("media"))
    assert with_file.status == 400, with_file.body[:300]
    assert with_file.sent < TAKEN_IN
    assert files_under(media) == []


def test_every_kind_of_write_route_answers_413_while_the_body_streams(
    server: tuple[str, Platform],
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
    resident_settings: Settings,
) -> None:
    base, platform = server
    ada = resident(TestClient(create_app(platform=platform)), mailbox[0], "ada@example.org")
    token = ada.post("/api/v1/account/tokens", json={"name": "uploads"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    upload_limit = LIMITS["media_max_video_bytes"] + 64 * 1024
    source = config(
        "push",
        "",
        slug="test-cad",
        push={"format": "json", "key_env": "HARDENING_KEY", "secret_env": "HARDENING_SECRET"},
    )
    with transaction(factory) as session:
        ingest.ensure_source(session, source)
    json_type = "application/json"
    form_type = "application/x-www-form-urlencoded"
    cases = {
        "JSON sign-in": (
            "/api/v1/account/sign-in",
            json_type,
            b'{"email": "',
            {},
            "request bodies",
            "max_json_body_bytes",
        ),
        "JSON watch area": (
            "/api/v1/subscriptions",
            json_type,
            b'{"name": "',
            {},
            "request bodies",
            "max_json_body_bytes",
        ),
        "JSON post, signed in": (
            "/api/v1/posts",
            json_type,
            b'{"title": "',
            bearer,
            "request bodies",
            "max_json_body_bytes",
        ),
        "sign-in form": ("/sign-in", form_type, b"email=", {}, "forms", "max_form_body_bytes"),
        "Open311, signed in": (
            f"/open311/v2/requests.json?api_key={token}",
            form_type,
            b"description=",
            {},
            "forms",
            "max_form_body_bytes",
        ),
        "pushed records": (
            "/api/v1/sources/test-cad/records",
            json_type,
            b'[{"x": "',
            {},
            "pushed records",
            "max_push_body_bytes",
        ),
    }
    for label, (path, kind_type, prefix, headers, kind, setting) in cases.items():
        limit = LIMITS[setting]
        for declare in (False, True):
            answer = send(base, path, kind_type, prefix, declare=declare, headers=headers)
            _expect_413(answer, kind, limit, f"{label} (declared: {declare})")
    media = Path(resident_settings.data_dir) / "media"
    for declare in (False, True):
        answer = send(
            base, "/api/v1/media", MULTIPART, multipart_head(), declare=declare, headers=bearer
        )
        _expect_413(answer, "uploads", upload_limit, f"upload, signed in (declared: {declare})")
    assert files_under(media) == []
    # Under the limits, the same routes still take their bodies.
    photo = send(
        base,
        "/api/v1/media",
        MULTIPART,
        multipart_head() + b"\x00" * 100 + f"\r\n--{BOUNDARY}--\r\n".encode(),
        total=0,
        headers=bearer,
    )
    assert photo.status == 422, photo.body[:300]  # read whole, then refused as no photo
