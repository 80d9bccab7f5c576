"""Clips: probed with ffprobe, every frame blurred, re-encoded to a bare H.264 MP4.

The public derivative is built from decoded pixels alone: one video stream, no audio (voices
and background sound identify people and places, so it is dropped rather than cleaned), no
data tracks (GPMF, camm, timecode), no subtitles (drones write GPS into them), no metadata
or chapters. Every frame is decoded and blurred; faces and plates are searched with the photo
detector on every other frame (a search costs a tenth of a second or more on a small
machine), and each frame is blurred with the boxes found on the searched frames on
either side of it, so a face missed once, or moving between searches, stays hidden.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np

from townsquare.errors import InvalidParameter, PayloadTooLarge, TownsquareError
from townsquare.media.faces import Box
from townsquare.media.images import blur_boxes, find_regions

MAX_SIDE = 1280  # longest side of the public clip: a sighting needs no more, and it bounds work
MAX_FPS = Fraction(30)
DETECT_SIDE = 640  # frames are searched at this size: faces from about 48 px at MAX_SIDE
DETECT_EVERY = 2  # so every frame is blurred with boxes found at most one frame away
FFPROBE_TIMEOUT_S = 30


class Cancelled(Exception):
    """Processing was stopped before the end (the node is shutting down)."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What ffprobe says of a clip, after its rotation is applied."""

    width: int
    height: int
    duration_s: float
    fps: Fraction


@dataclass(frozen=True, slots=True)
class ClipDerivative:
    """The public form of a clip, written to `path`."""

    path: Path
    width: int
    height: int
    duration_s: float
    frames: int
    regions: int


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return int(side["rotation"])
    return int(stream.get("tags", {}).get("rotate", 0))


def _rate(stream: dict[str, Any]) -> Fraction:
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key, "0/0")).partition("/")
        if num.isdigit() and den.isdigit() and int(num) and int(den):
            return min(Fraction(int(num), int(den)), MAX_FPS)
    return MAX_FPS


def probe(path: Path, max_seconds: float, max_pixels: int) -> Probe:
    """Read a clip's size, duration and rate; refuse what is not a bounded MP4/MOV video."""
    command = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams"]
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, path is our own scratch file
            [*command, str(path)], capture_output=True, timeout=FFPROBE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise InvalidParameter("file", "the clip cannot be read in time") from exc
    info: dict[str, Any] = json.loads(done.stdout or b"{}") if done.returncode == 0 else {}
    fmt = info.get("format", {})
    if "mp4" not in str(fmt.get("format_name", "")).split(","):
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["unknown"]
        said = reason[0].replace(f"{path}: ", "")  # the scratch path is ours, not theirs
        raise InvalidParameter("file", f"not a readable MP4 or MOV clip ({said})")
    videos = [
        s
        for s in info.get("streams", [])
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not videos or not videos[0].get("width") or not videos[0].get("height"):
        raise InvalidParameter("file", "the clip has no video stream")
    video = videos[0]
    duration = float(fmt.get("duration") or video.get("duration") or "nan")
    if not math.isfinite(duration) or duration <= 0:
        raise InvalidParameter("file", "the clip's duration cannot be read")
    if duration > max_seconds:
        raise PayloadTooLarge(f"clips up to {max_seconds:g} seconds; this one is {duration:.1f}")
    width, height = int(video["width"]), int(video["height"])
    if width * height > max_pixels:
        raise PayloadTooLarge(f"clip frames over {max_pixels} pixels")
    if _rotation(video) % 180:
        width, height = height, width
    return Probe(width, height, duration, _rate(video))


def public_size(width: int, height: int) -> tuple[int, int]:
    """The public clip's frame size: at most MAX_SIDE, even sides (H.264 with 4:2:0 needs them)."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _frames(stream: IO[bytes], width: int, height: int, limit: int) -> Iterator[np.ndarray]:
    size = width * height * 3
    for _ in range(limit):
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size and (n := stream.readinto(view[got:])):  # type: ignore[attr-defined]
            got += n
        if got < size:
            return
        yield np.frombuffer(buffer, np.uint8).reshape(height, width, 3)


def _detect(frame: np.ndarray) -> list[Box]:
    height, width = frame.shape[:2]
    factor = min(1.0, DETECT_SIDE / max(width, height))
    if factor == 1.0:
        return find_regions(frame)
    small = cv2.resize(
        frame, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA
    )
    return [
        (round(x / factor), round(y / factor), math.ceil(w / factor), math.ceil(h / factor))
        for x, y, w, h in find_regions(small)
    ]


def _flush(
    held: list[np.ndarray], earlier: list[Box], boxes: list[Box], later: list[Box]
) -> Iterator[tuple[np.ndarray, int]]:
    for position, frame in enumerate(held):
        blur_boxes(frame, (earlier if position == 0 else []) + boxes + later)
        yield frame, len(boxes)


def _blurred(frames: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, int]]:
    """Frames blurred with the boxes found on the searched frames on either side of them.

    Every DETECT_EVERY-th frame is searched; a searched frame also takes the boxes of the
    searched frames before and after it, a frame in between those of its two neighbours.
    """
    earlier: list[Box] = []
    boxes: list[Box] = []
    held: list[np.ndarray] = []  # the last searched frame and those after it
    for index, frame in enumerate(frames):
        if index % DETECT_EVERY == 0:
            found = _detect(frame)
            yield from _flush(held, earlier, boxes, found)
            earlier, boxes, held = boxes, found, []
        held.append(frame)
    yield from _flush(held, earlier, boxes, [])


def _decoder(source: Path, meta: Probe, width: int, height: int, max_s: float) -> list[str]:
    return [
        "ffmpeg", "-v", "error", "-nostdin", "-t", f"{max_s:g}", "-i", str(source),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", f"fps={meta.fps},scale={width}:{height}:flags=area",
        "-pix_fmt", "rgb24", "-f", "rawvideo", "-",
    ]  # fmt: skip


def _encoder(dest: Path, meta: Probe, width: int, height: int) -> list[str]:
    return [
        "ffmpeg", "-v", "error", "-nostdin", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
        "-framerate", str(meta.fps), "-i", "-",
        "-map", "0:v", "-map_metadata", "-1", "-map_chapters", "-1",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-fflags", "+bitexact", "-movflags", "+faststart", "-f", "mp4", str(dest),
    ]  # fmt: skip


def public_clip(
    source: Path,
    dest: Path,
    max_seconds: float,
    max_pixels: int,
    cancelled: Callable[[], bool] = lambda: False,
) -> ClipDerivative:
    """Write the blurred, bare H.264 MP4 of a clip to `dest`.

    `cancelled` is asked before each frame; when it says yes, both ffmpeg processes are killed
    and Cancelled is raised.
    """
    meta = probe(source, max_seconds, max_pixels)
    width, height = public_size(meta.width, meta.height)
    limit = math.ceil(max_seconds * meta.fps) + 1
    log = dest.with_suffix(".log")
    with (
        log.open("w+b") as errors,
        subprocess.Popen(  # noqa: S603 - fixed program and arguments
            _decoder(source, meta, width, height, max_seconds),
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as decoder,
        subprocess.Popen(  # noqa: S603
            _encoder(dest, meta, width, height), stdin=subprocess.PIPE, stderr=errors
        ) as encoder,
    ):
        assert decoder.stdout is not None
        assert encoder.stdin is not None
        frames = regions = 0
        try:
            for frame, found in _blurred(_frames(decoder.stdout, width, height, limit)):
                if cancelled():
                    raise Cancelled(str(source))
                encoder.stdin.write(frame.data)
                frames, regions = frames + 1, max(regions, found)
            encoder.stdin.close()
            if frames == limit:  # a clip longer than its header said: the rest is not read
                decoder.kill()
            decoded = 0 if frames == limit else decoder.wait()
            encoded = encoder.wait()
        except BrokenPipeError:
            decoded, encoded = 0, -1
        finally:
            for process in (decoder, encoder):
                if process.poll() is None:
                    process.kill()
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip()
    log.unlink()
    if decoded != 0 or frames == 0:
        raise InvalidParameter("file", f"the clip cannot be decoded ({said[:200] or 'no frame'})")
    if encoded != 0:
        raise TownsquareError(f"encoding the public clip failed: {said[:200]}")
    return ClipDerivative(dest, width, height, meta.duration_s, frames, regions)
