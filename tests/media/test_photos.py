"""A 40 MP phone photo is accepted and published small, without GPS; over the cap it is refused.

The photo is a real JPEG made with Pillow, with EXIF GPS tags and a sideways orientation, as
phones write them; the public copy is made by the media job from the stored original.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.clips import FACE_512, finish_clips
from tests.support.residents import Mailbox, app_with, resident
from townsquare.media import images
from townsquare.media.images import PUBLIC_SIDE
from townsquare.settings import Settings

GPS_IFD = 0x8825
ORIENTATION = 0x0112
WIDTH, HEIGHT = 7728, 5152  # 39.8 MP, a phone's 40 MP sensor


def phone_photo(tmp_path: Path) -> bytes:
    """A 40 MP JPEG with GPS tags, turned sideways by its EXIF orientation (6: rotate 90°)."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[GPS_IFD] = {1: "N", 2: (47.0, 37.0, 13.8), 3: "W", 4: (122.0, 20.0, 57.5)}
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (WIDTH, HEIGHT), (120, 150, 90)).save(
        path, "JPEG", quality=90, exif=exif.tobytes()
    )
    with Image.open(path) as check:
        assert check.getexif().get_ifd(GPS_IFD)  # the original carries the location
    return path.read_bytes()


def test_a_40_megapixel_photo_is_published_small_and_without_gps(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    original = phone_photo(tmp_path)
    sent = ada.post("/api/v1/media", files={"file": ("phone.jpg", original, "image/jpeg")})
    assert sent.status_code == 201, sent.text
    assert sent.json()["state"] == "processing"
    assert (sent.json()["width"], sent.json()["height"]) == (1365, PUBLIC_SIDE)  # upright
    finish_clips(app_client)
    media_id = sent.json()["id"]
    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert info["state"] == "ready", info
    public = ada.client.get(f"/api/v1/media/{media_id}")
    assert public.status_code == 200
    assert public.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(public.content)) as image:
        assert image.size == (info["width"], info["height"]) == (1365, PUBLIC_SIDE)
        assert "exif" not in image.info
        assert not image.getexif()
        assert not image.getexif().get_ifd(GPS_IFD)
    assert ada.client.get(f"/api/v1/media/{media_id}/original").content == original


def test_a_photo_over_the_pixel_cap_is_refused_at_once_saying_so(
    resident_settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    with app_with(resident_settings, engine, factory, media_max_pixels=30_000_000) as client:
        ada = resident(client, mailbox[0], "ada@example.org")
        sent = ada.post("/api/v1/media", files={"file": ("phone.jpg", phone_photo(tmp_path))})
    assert sent.status_code == 413, sent.text
    assert sent.headers["content-type"] == "application/problem+json"
    assert sent.json()["detail"] == ("photos up to 30 megapixels; this one is 7728x5152 (39.8 MP)")
    incoming = Path(resident_settings.data_dir) / "media"
    assert not [p for p in incoming.rglob("*") if p.is_file()]  # nothing kept


def _sharpness(image: Image.Image) -> float:
    """Mean step between neighbouring pixels: a blurred face has far smaller steps."""
    grey = np.asarray(image.convert("L"), np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_a_face_in_a_large_photo_is_found_and_blurred_in_the_published_copy() -> None:
    canvas = Image.new("RGB", (4000, 3000), (200, 200, 200))
    canvas.paste(Image.fromarray(data.astronaut()), (900, 700))  # across a tile border
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=92)
    public = images.public_photo(out.getvalue(), 40_000_000)
    assert (public.width, public.height) == (PUBLIC_SIDE, 1536)
    assert public.regions >= 1
    scale = PUBLIC_SIDE / 4000
    x, y, w, h = (round(v * scale) for v in (900 + 175, 700 + 60, *FACE_512[2:]))
    sharp = canvas.resize((PUBLIC_SIDE, 1536)).crop((x, y, x + w, y + h))
    with Image.open(io.BytesIO(public.data)) as published:
        face = published.crop((x, y, x + w, y + h))
    assert _sharpness(face) < 0.5 * _sharpness(sharp)
