"""An upload onto a full disk: 507 problem+json, no half-written file left in the data
folder, and every upload stored before still served.

The disk is made full for the one request with the kernel's RLIMIT_FSIZE (no file may grow
past 256 KB; writes past it fail with EFBIG, SIGXFSZ ignored), as a test cannot mount a
small file system without root.
"""

from __future__ import annotations

import io
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.support.clips import finish_clips
from tests.support.residents import Mailbox, resident
from townsquare.settings import Settings

FULL_AT = 256 * 1024


@contextmanager
def disk_full_at(size: int) -> Iterator[None]:
    """No file this process writes may grow past `size` bytes while the block runs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _photo(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((width, height), 80).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_an_upload_onto_a_full_disk_is_507_and_keeps_what_was_stored(
    app_client: TestClient, mailbox: tuple[Mailbox, int], resident_settings: Settings
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    first = _photo(320, 240)
    stored = ada.post("/api/v1/media", files={"file": ("a.jpg", first, "image/jpeg")})
    assert stored.status_code == 201, stored.text
    finish_clips(app_client)
    media = resident_settings.data_dir / "media"
    kept = _files(media)
    big = _photo(1200, 900)
    assert len(big) > 2 * FULL_AT
    with disk_full_at(FULL_AT):
        full = ada.post("/api/v1/media", files={"file": ("b.jpg", big, "image/jpeg")})
    assert full.status_code == 507, full.text
    assert full.headers["content-type"] == "application/problem+json"
    assert "storage is full" in full.json()["detail"]
    assert _files(media) == kept  # nothing half-written
    again = ada.client.get(f"/api/v1/media/{stored.json()['id']}/original")
    assert again.content == first
    retried = ada.post("/api/v1/media", files={"file": ("b.jpg", big, "image/jpeg")})
    assert retried.status_code == 201, retried.text
