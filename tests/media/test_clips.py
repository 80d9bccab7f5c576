"""Clips: the public form is one blurred H.264 stream with no location, data, audio or tags;
the original stays its owner's alone; type, size and duration are checked from the content."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from fastapi.testclient import TestClient

from tests.support.clips import (
    LOCATION,
    astronaut_clip,
    face_box,
    ffmpeg,
    finish_clips,
    frames,
    pattern_clip,
    streams,
    tags,
)
from tests.support.residents import Mailbox, resident
from townsquare.media.clips import public_clip

PRIVATE = ("gps", "location", "xyz", "timecode", "subtitle", "audio")


def _sharpness(frame: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Laplacian variance of the middle of a face (eyes, nose, mouth)."""
    x, y, w, h = box
    core = frame[y + h // 4 : y + h * 3 // 4, x + w // 5 : x + w * 4 // 5]
    gray = cv2.cvtColor(core, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def test_public_clip_is_bare_and_blurred_and_the_original_is_the_owners_alone(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    bo = resident(app_client, mailbox[0], "bo@example.org")
    source = astronaut_clip(tmp_path)
    assert {s["codec_type"] for s in streams(source)} == {"video", "audio", "subtitle", "data"}
    assert any("GPS" in k for k in tags(source))
    original = source.read_bytes()

    upload = ada.post("/api/v1/media", files={"file": ("notes.txt", original, "text/plain")})
    assert upload.status_code == 201, upload.text
    assert upload.json()["kind"] == "clip"
    media_id = upload.json()["id"]
    finish_clips(app_client)
    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert (info["state"], info["error"]) == ("ready", None)
    assert info["blurred_regions"] >= 1  # the face, at least
    response = ada.client.get(f"/api/v1/media/{media_id}")
    assert response.headers["content-type"] == "video/mp4"
    public = tmp_path / "public.mp4"
    public.write_bytes(response.content)

    assert streams(public) == [{"codec_name": "h264", "codec_type": "video"}]
    found = tags(public)
    assert [k for k in found if any(word in k.lower() for word in PRIVATE)] == []
    assert LOCATION[:8] not in str(found)
    assert b"47.6062" not in response.content
    assert b"moov" in response.content[:4096]  # faststart: the index comes first

    before, after = frames(source), frames(public)
    assert len(after) == len(before) == 20
    for index, (was, now) in enumerate(zip(before, after, strict=True)):
        box = face_box(index)
        assert _sharpness(now, box) < 0.1 * _sharpness(was, box), f"frame {index}"

    mine = ada.client.get(f"/api/v1/media/{media_id}/original")
    assert mine.content == original
    assert mine.headers["content-type"] == "video/mp4"
    assert bo.client.get(f"/api/v1/media/{media_id}/original").status_code == 404
    assert bo.client.get(f"/api/v1/media/{media_id}").status_code == 404


def test_mov_clips_are_typed_by_their_brand(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    clip = pattern_clip(tmp_path, "pattern.mov", 1.0, fmt="mov")
    assert clip.read_bytes()[8:12] == b"qt  "
    upload = ada.post("/api/v1/media", files={"file": ("pattern.jpg", clip.read_bytes())})
    assert upload.status_code == 201, upload.text
    original = ada.client.get(f"/api/v1/media/{upload.json()['id']}/original")
    assert original.headers["content-type"] == "video/quicktime"


def test_clips_over_the_limits_are_refused_with_the_limit(
    limited_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(limited_client, mailbox[0], "ada@example.org")
    long = pattern_clip(tmp_path, "long.mp4", 3.0)
    refused = ada.post("/api/v1/media", files={"file": ("long.mp4", long.read_bytes())})
    assert refused.status_code == 413
    assert "clips up to 1.5 seconds; this one is 3.0" in refused.json()["detail"]

    big = pattern_clip(tmp_path, "big.mp4", 1.0, side=720)
    assert big.stat().st_size > 60_000
    refused = ada.post("/api/v1/media", files={"file": ("big.mp4", big.read_bytes())})
    assert refused.status_code == 413
    assert "clips up to 60000 bytes" in refused.json()["detail"]

    short = pattern_clip(tmp_path, "short.mp4", 1.0)
    assert ada.post("/api/v1/media", files={"file": ("a", short.read_bytes())}).status_code == 201


def test_files_that_are_not_clips_are_refused(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")

    def send(data: bytes) -> tuple[int, str]:
        response = ada.post("/api/v1/media", files={"file": ("clip.mp4", data, "video/mp4")})
        return response.status_code, str(response.json()["detail"])

    assert send(b"just some text, named like a video\n" * 10) == (
        422,
        "file: send a JPEG, PNG or HEIC photo, or an MP4 or MOV clip",
    )
    clip = pattern_clip(tmp_path, "cut.mp4", 1.0).read_bytes()
    status, detail = send(clip[:200] + b"\0" * 300)
    assert status == 422
    assert "MP4 or MOV" in detail or "cannot be decoded" in detail
    sound = tmp_path / "sound.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(sound))
    assert send(sound.read_bytes()) == (422, "file: the clip has no video stream")


def test_a_turned_phone_clip_is_stored_upright(tmp_path: Path) -> None:
    wide = pattern_clip(tmp_path, "wide.mp4", 1.0, side=64)
    turned = tmp_path / "turned.mp4"
    ffmpeg("-i", str(wide), "-vf", "scale=96:48", "-c:v", "libx264", str(turned))
    exiftool = ["exiftool", "-q", "-overwrite_original", "-Rotation=90", str(turned)]
    subprocess.run(exiftool, check=True)  # a display matrix, as phones write
    public = public_clip(turned, tmp_path / "upright.mp4", 60, 40_000_000)
    assert (public.width, public.height, public.frames) == (48, 96, 10)
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", str(public.path)],
        check=True,
        capture_output=True,
    )
    assert b"rotation" not in shown.stdout
    assert b"height=96" in shown.stdout
