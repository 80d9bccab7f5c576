"""Photos: the stored public form has no location (exiftool finds none); originals are private."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.support.clips import finish_clips
from tests.support.residents import Mailbox, resident

EXIF_GPS = [
    "-GPSLatitude=47.6205",
    "-GPSLatitudeRef=N",
    "-GPSLongitude=122.3493",
    "-GPSLongitudeRef=W",
    "-overwrite_original",
]


def _photo_with_gps(tmp_path: Path) -> bytes:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (320, 240), (120, 160, 200)).save(path, "JPEG")
    subprocess.run(["exiftool", *EXIF_GPS, str(path)], check=True, capture_output=True)
    return path.read_bytes()


def _tags(data: bytes, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "out.jpg"
    path.write_bytes(data)
    out = subprocess.run(["exiftool", "-j", "-G", str(path)], check=True, capture_output=True)
    tags: dict[str, object] = json.loads(out.stdout)[0]
    return tags


def test_public_photo_has_no_location_and_the_original_is_the_owners_alone(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    bo = resident(app_client, mailbox[0], "bo@example.org")
    original = _photo_with_gps(tmp_path)
    assert any("GPS" in k for k in _tags(original, tmp_path))
    upload = ada.post("/api/v1/media", files={"file": ("x.txt", original, "text/plain")})
    assert upload.status_code == 201, upload.text
    media_id = upload.json()["id"]
    assert upload.json()["state"] == "processing"  # the media job blurs it
    finish_clips(app_client)
    public = ada.client.get(f"/api/v1/media/{media_id}")
    assert public.status_code == 200
    assert public.headers["content-type"] == "image/jpeg"
    public = public.content
    assert not [k for k in _tags(public, tmp_path) if "GPS" in k or k.startswith("EXIF")]
    assert ada.client.get(f"/api/v1/media/{media_id}/original").content == original
    assert bo.client.get(f"/api/v1/media/{media_id}/original").status_code == 404
    assert bo.client.get(f"/api/v1/media/{media_id}").status_code == 404


def test_files_are_typed_by_content_and_limited(
    app_client: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    fake = ada.post(
        "/api/v1/media", files={"file": ("a.jpg", b"not an image at all", "image/jpeg")}
    )
    assert fake.status_code == 422
    broken = ada.post("/api/v1/media", files={"file": ("a.jpg", b"\xff\xd8\xff" + b"0" * 100)})
    assert broken.status_code == 422
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    assert ada.post("/api/v1/media", files={"file": ("a", buffer.getvalue())}).status_code == 201
