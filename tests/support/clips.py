"""Real clips made with ffmpeg for the tests, and ways to look inside them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data
from sqlalchemy import func, select

from tests.support.waiting import wait_for
from townsquare.media.jobs import process_pending
from townsquare.media.models import Media

SIDE = 320  # frame side of the astronaut clip
FPS = 10
SHIFT = 2  # pixels the view pans right each frame
# The astronaut's face in skimage.data.astronaut() (512 px), hand-labelled: x, y, w, h.
FACE_512 = (175, 60, 105, 125)
LOCATION = "+47.6062-122.3321/"


def finish_clips(client: TestClient, timeout_s: float = 300) -> None:
    """Wait until no uploaded clip is `processing`, running the media job here as well.

    The app's own job (lifespan) may hold a clip; claims keep the two off the same one.
    """
    platform = client.app.state.platform  # type: ignore[attr-defined]

    def processed() -> bool:
        process_pending(platform.factory, platform.settings)
        with platform.factory() as session:
            waiting = session.scalar(
                select(func.count()).select_from(Media).where(Media.state == "processing")
            )
        return not waiting

    wait_for(processed, timeout=timeout_s, what="every uploaded clip to be processed")


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test on error."""
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def face_box(frame: int) -> tuple[int, int, int, int]:
    """Where the face is in frame `frame` of the astronaut clip."""
    scale = (SIDE + 80) / 512
    x, y, w, h = (round(v * scale) for v in FACE_512)
    return x - SHIFT * frame, y, w, h


def astronaut_clip(folder: Path, seconds: float = 2.0) -> Path:
    """An MP4 of the astronaut panning, with a GPS location atom, GPS subtitles, a timecode
    data track and a tone: everything a public clip must lose."""
    still = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(still)
    subtitles = folder / "gps.srt"
    subtitles.write_text(f"1\n00:00:00,000 --> 00:00:09,000\nGPS {LOCATION}\n")
    path = folder / "astronaut.mp4"
    big = SIDE + 80
    ffmpeg(
        *("-loop", "1", "-framerate", str(FPS), "-i", str(still)),
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-i", str(subtitles)),
        *("-t", str(seconds), "-vf", f"scale={big}:{big},crop={SIDE}:{SIDE}:'n*{SHIFT}':0"),
        *("-map", "0:v", "-map", "1:a", "-map", "2:s"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text"),
        *("-timecode", "01:00:00:00", "-metadata", f"location={LOCATION}"),
        *("-movflags", "use_metadata_tags", "-f", "mp4", str(path)),
    )
    return path


def pattern_clip(folder: Path, name: str, seconds: float, fmt: str = "mp4", side: int = 64) -> Path:
    """A small clip of ffmpeg's test pattern, no face in it."""
    path = folder / name
    pattern = f"testsrc2=size={side}x{side}:rate={FPS}:duration={seconds}"
    encode = ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", fmt)
    ffmpeg("-f", "lavfi", "-i", pattern, *encode, str(path))
    return path


def streams(path: Path) -> list[dict[str, str]]:
    """ffprobe's streams of a file: codec_type and codec_name of each."""
    entries = ("-show_entries", "stream=codec_type,codec_name")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *entries, str(path)],
        check=True,
        capture_output=True,
    )
    found: list[dict[str, str]] = json.loads(out.stdout)["streams"]
    return found


def tags(path: Path) -> dict[str, object]:
    """Every tag exiftool reads, duplicates included, grouped."""
    out = subprocess.run(["exiftool", "-j", "-G", "-a", str(path)], check=True, capture_output=True)
    found: dict[str, object] = json.loads(out.stdout)[0]
    return found


def frames(path: Path, side: int = SIDE) -> np.ndarray:
    """Every frame of a clip as RGB, shape (n, side, side, 3)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    )
    return np.frombuffer(out.stdout, np.uint8).reshape(-1, side, side, 3)


@dataclass
class Clips:
    """Real small clips made once per test."""

    folder: Path

    def make(self, name: str = "clip.mp4") -> Path:
        """A one-second test pattern with a GPS location atom in its metadata."""
        path = self.folder / name
        ffmpeg(
            *("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1"),
            *("-c:v", "libx264", "-pix_fmt", "yuv420p"),
            *("-metadata", "location=+47.610437-122.330521/", "-movflags", "use_metadata_tags"),
            *("-f", "mp4", str(path)),
        )
        return path


@pytest.fixture
def clips(tmp_path: Path) -> Clips:
    """A maker of real clips."""
    folder = tmp_path / "clips"
    folder.mkdir()
    return Clips(folder)
