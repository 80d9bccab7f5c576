"""How long a clip upload keeps the uploader waiting: the work the request does now (probe the
file, store the original) against the work it did before the media job (the same, plus the
blurred derivative), on synthetic 720p clips of several lengths made with ffmpeg.

Both run here, one after the other, on the same files. Figures only, never asserted.
Run: `.venv/bin/python bench/clip_upload.py [--seconds 5 15 30] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from townsquare.media import clips
from townsquare.media.storage import BlobStore

MAX_SECONDS = 60
MAX_PIXELS = 40_000_000


def make_clip(folder: Path, seconds: int) -> Path:
    """A 1280x720, 30 frames/s test pattern with moving content."""
    path = folder / f"clip-{seconds}s.mp4"
    pattern = f"testsrc2=size=1280x720:rate=30:duration={seconds}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", pattern, "-c:v", "libx264",
         "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def answer_now(store: BlobStore, clip: Path) -> None:
    """What the upload request does since the media job: probe, keep the original."""
    clips.probe(clip, MAX_SECONDS, MAX_PIXELS)
    store.put_file(clip)


def answer_before(store: BlobStore, clip: Path, work: Path) -> None:
    """What it did before: the same, plus the blurred public clip."""
    public = clips.public_clip(clip, work / "public.mp4", MAX_SECONDS, MAX_PIXELS)
    store.put_file(clip)
    store.put_file(public.path)


def timed(run: Callable[[Path], None], clip: Path, repeat: int) -> float:
    """Median seconds of `repeat` runs, each on a fresh copy (the store moves files in)."""
    seconds = []
    for _ in range(repeat):
        upload = clip.with_name(f"upload-{clip.name}")
        shutil.copyfile(clip, upload)
        started = time.perf_counter()
        run(upload)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, nargs="+", default=[5, 15, 30])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'clip':>8} {'answer now':>12} {'answer before':>14} {'ratio':>8}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for seconds in args.seconds:
            clip = make_clip(root, seconds)
            store = BlobStore(root / f"store-{seconds}")
            now = timed(lambda c: answer_now(store, c), clip, args.repeat)  # noqa: B023
            before = timed(lambda c: answer_before(store, c, root), clip, args.repeat)  # noqa: B023
            print(f"{seconds:>7}s {now * 1000:>10.0f}ms {before:>13.1f}s {before / now:>7.0f}x")


if __name__ == "__main__":
    main()
