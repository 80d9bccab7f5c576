"""Face detection recall of the media blurring on real photos, false positives, clip speed.

Faces: skimage.data.astronaut() and camera() (boxes hand-labelled below) and the 100 real
face crops of skimage.data.lfw_subset() (Labeled Faces in the Wild), each pasted on a grey
canvas at several sizes so the box is known by construction. A face counts as found when a
detected region overlaps its box with IoU >= 0.3. False positives: regions on photos with no
face or plate in them (coffee, chelsea the cat, rocket, ...; the 100 LFW non-face patches)
and regions on the face photos matching no face. Every image ships inside scikit-image (no
download). Then the clip pipeline's speed in frames per second on a synthetic 720p clip.
Figures only, never asserted. Run: `.venv/bin/python bench/media_recall.py`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from townsquare.media import clips
from townsquare.media.faces import Box
from townsquare.media.images import find_regions

Detector = Callable[[np.ndarray], list[Box]]
# Hand-labelled faces (x, y, w, h): forehead to chin, ear to ear.
LABELLED = {"astronaut": [(175, 60, 105, 125)], "camera": [(165, 95, 90, 105)]}
NO_FACE = (
    *("coffee", "chelsea", "rocket", "horse", "coins", "hubble_deep_field", "page", "text"),
    *("brick", "grass", "gravel", "retina", "moon", "immunohistochemistry", "cell"),
    *("colorwheel", "logo", "clock"),
)
LFW_SIZES = (24, 32, 48, 64, 96, 160)
HARD_SIDE = 64
"""Side of the LFW faces in the tilted and low-light sets."""


def rgb(image: np.ndarray) -> np.ndarray:
    """Any skimage image as a contiguous uint8 RGB array."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[..., :3])


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def score(found: list[Box], truth: list[Box]) -> tuple[int, int]:
    """(faces found, regions matching no face)."""
    hits = sum(any(iou(f, t) >= 0.3 for f in found) for t in truth)
    stray = sum(not any(iou(f, t) >= 0.3 for t in truth) for f in found)
    return hits, stray


def pasted(patches: np.ndarray, side: int) -> Iterator[tuple[np.ndarray, Box]]:
    """Each 25x25 patch resized to `side` in the middle of a grey canvas three times as big."""
    for patch in patches:
        canvas = np.full((side * 3, side * 3, 3), 128, np.uint8)
        face = cv2.resize(rgb(patch), (side, side), interpolation=cv2.INTER_CUBIC)
        canvas[side : 2 * side, side : 2 * side] = face
        yield canvas, (side, side, side, side)


HAAR = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
HAAR += ("haarcascade_russian_plate_number.xml",)


def haar_regions(image: np.ndarray) -> list[Box]:
    """The peer: faces and plates as the photo blurring found them before CenterFace."""
    root = str(cv2.data.haarcascades)  # type: ignore[attr-defined]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return [
        (int(x), int(y), int(w), int(h))
        for name in HAAR
        for x, y, w, h in cv2.CascadeClassifier(root + name).detectMultiScale(
            gray, 1.1, 4, minSize=(24, 24)
        )
    ]


def tilted(canvas: np.ndarray, degrees: float) -> np.ndarray:
    """The canvas turned about its centre (the face stays in the middle third)."""
    side = canvas.shape[0]
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, turn, (side, side), borderValue=(128, 128, 128))


def dark(canvas: np.ndarray, seed: int) -> np.ndarray:
    """The canvas as a night camera sees it: a fifth of the light, and sensor noise."""
    noise = np.random.default_rng(seed).normal(0, 4, canvas.shape)
    return np.clip(canvas * 0.2 + noise, 0, 255).astype(np.uint8)


def hard_cases(detect: Detector) -> list[tuple[str, int, int]]:
    """(set, found, false+) for LFW faces tilted 35° and in low light, 100 faces each."""
    rows = []
    for label, change in (
        (f"lfw tilted 35° at {HARD_SIDE} px", lambda c, n: tilted(c, 35)),
        (f"lfw low light at {HARD_SIDE} px", dark),
    ):
        hits = stray = 0
        for n, (canvas, box) in enumerate(pasted(data.lfw_subset()[:100], HARD_SIDE)):
            h, s = score(detect(change(canvas, n)), [box])
            hits, stray = hits + h, stray + s
        rows.append((label, hits, stray))
    return rows


def recall(detect: Detector) -> None:
    """Print recall and false positives, photo by photo and size by size."""
    lfw = data.lfw_subset()  # 100 faces, then 100 non-faces
    print(f"{'set':<28} {'faces':>5} {'found':>5} {'recall':>7} {'false+':>7}")
    total_faces = total_found = 0
    for name, truth in LABELLED.items():
        hits, stray = score(detect(rgb(getattr(data, name)())), truth)
        print(f"{name:<28} {len(truth):>5} {hits:>5} {hits / len(truth):>7.0%} {stray:>7}")
        total_faces, total_found = total_faces + len(truth), total_found + hits
    for side in LFW_SIZES:
        hits = stray = 0
        for canvas, box in pasted(lfw[:100], side):
            h, s = score(detect(canvas), [box])
            hits, stray = hits + h, stray + s
        label = f"lfw faces at {side} px"
        print(f"{label:<28} {100:>5} {hits:>5} {hits / 100:>7.0%} {stray:>7}")
        total_faces, total_found = total_faces + 100, total_found + hits
    print(f"{'all faces':<28} {total_faces:>5} {total_found:>5} {total_found / total_faces:>7.1%}")
    for label, hits, stray in hard_cases(detect):
        print(f"{label:<28} {100:>5} {hits:>5} {hits / 100:>7.0%} {stray:>7}")
    print()
    print(f"{'no face, no plate':<28} {'images':>6} {'regions':>8}")
    found = {name: len(detect(rgb(getattr(data, name)()))) for name in NO_FACE}
    print(f"{'skimage images':<28} {len(NO_FACE):>6} {sum(found.values()):>8}")
    print("  " + ", ".join(f"{name} {count}" for name, count in found.items() if count))
    for side in (64, 160):
        stray = sum(len(detect(c)) for c, _ in pasted(lfw[100:], side))
        print(f"{f'lfw non-faces at {side} px':<28} {100:>6} {stray:>8}")


def clip_speed(width: int, height: int, seconds: float) -> None:
    """Time the public clip of a synthetic clip: the astronaut over ffmpeg's test pattern."""
    with tempfile.TemporaryDirectory() as folder:
        still, source = Path(folder) / "astronaut.png", Path(folder) / "source.mp4"
        cv2.imwrite(str(still), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
        pattern = f"testsrc2=size={width}x{height}:rate=30:duration={seconds}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", pattern, "-i", str(still),
             "-filter_complex", f"[1]scale=-1:{height // 2}[a];[0][a]overlay=x='t*40':y=20",
             "-c:v", "libx264", "-pix_fmt", "yuv420p", str(source)],
            check=True,
        )  # fmt: skip
        start = time.perf_counter()
        cpu = time.process_time()
        public = clips.public_clip(source, Path(folder) / "public.mp4", 60, 40_000_000)
        wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"clip {width}x{height} {public.frames} frames: {public.frames / wall:.1f} frames/s "
        f"({wall:.1f} s wall, {used:.1f} s CPU in this process; ffmpeg runs beside it)"
    )


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-clip", action="store_true", help="skip the clip timing")
    args = parser.parse_args()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"OpenCV {cv2.__version__}; load average {load} on {os.cpu_count()} cores")
    print("\nThe photo blurring as it runs (images.find_regions: CenterFace faces, Haar plates)")
    recall(find_regions)
    print("\nThe peer: the Haar face cascades used before (frontal + profile, and plates)")
    recall(haar_regions)
    if not args.no_clip:
        print()
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average before the clip timing: {load} on {os.cpu_count()} cores")
        clip_speed(640, 360, 2.0)
        clip_speed(1280, 720, 2.0)


if __name__ == "__main__":
    main()
