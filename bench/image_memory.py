"""Peak memory of making a photo's public derivative, per megapixel, for 12 MP and 40 MP photos.

    .venv/bin/python bench/image_memory.py [--sizes 12,40]

Makes real JPEGs with Pillow (a camera-like gradient with texture, EXIF GPS tags), then, for
each, runs `townsquare.media.images.public_photo` in a fresh process whose face and plate
detectors are already loaded, and prints that process's peak RSS growth (VmHWM) and what
it still holds after the derivative is made and the collector has run (VmRSS), in MB and MB
per megapixel. Run it against another tree's code with PYTHONPATH=that/src. Not run by tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

SIZES = {12: (4000, 3000), 40: (7728, 5152)}
GPS_IFD = 0x8825


def make_photo(path: Path, width: int, height: int) -> None:
    """A JPEG of `width` x `height` with GPS tags, as a phone writes one (quality 90)."""
    rng = np.random.default_rng(7)
    rows = np.linspace(40, 215, height, dtype=np.float32)[:, None]
    cols = np.linspace(30, 200, width, dtype=np.float32)[None, :]
    bands = []
    for a, b in ((1.0, 0.0), (0.5, 0.5), (0.0, 1.0)):
        plane = rows * a + cols * b + rng.normal(0, 6, (height, width)).astype(np.float32)
        bands.append(Image.fromarray(np.clip(plane, 0, 255).astype(np.uint8)))
    image = Image.merge("RGB", bands)
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"
    exif[GPS_IFD] = {1: "N", 2: (47.0, 37.0, 13.8), 3: "W", 4: (122.0, 20.0, 57.5)}
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process; unlike ru_maxrss, VmHWM starts anew at exec
    rather than carrying the forking parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def child(path: Path) -> None:
    """Measure one derivative in this process; print a JSON line."""
    from townsquare.media import images

    warm = Image.new("RGB", (640, 480), (90, 90, 90))
    warm_path = path.with_suffix(".warm.jpg")
    warm.save(warm_path, "JPEG")
    images.public_photo(warm_path.read_bytes(), 10**9)  # loads the detectors: not counted
    gc.collect()
    base_peak, base_rss = _status_mb("VmHWM"), _status_mb("VmRSS")
    data = path.read_bytes()
    public = images.public_photo(data, 10**9)
    del data
    gc.collect()
    peak = _status_mb("VmHWM") - base_peak
    held = _status_mb("VmRSS") - base_rss
    print(json.dumps({"peak_mb": peak, "held_mb": held, "out": [public.width, public.height]}))


def main() -> None:
    """Make the photos, measure each in a child process, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="12,40")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return
    print(f"{'photo':>8} {'file MB':>8} {'peak MB':>8} {'MB/MP':>6} {'held MB':>8} {'public':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for megapixels in (int(s) for s in args.sizes.split(",")):
            width, height = SIZES[megapixels]
            path = Path(tmp) / f"{megapixels}mp.jpg"
            make_photo(path, width, height)
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ,
            )
            got = json.loads(run.stdout.strip().splitlines()[-1])
            mp = width * height / 1e6
            size = f"{got['out'][0]}x{got['out'][1]}"
            print(
                f"{mp:>6.1f}MP {path.stat().st_size / 1e6:>8.1f} {got['peak_mb']:>8.0f} "
                f"{got['peak_mb'] / mp:>6.1f} {got['held_mb']:>8.0f} {size:>10}"
            )


if __name__ == "__main__":
    main()
