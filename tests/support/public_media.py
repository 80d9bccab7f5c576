"""A resident's photo as a phone writes it (a real face, GPS in its EXIF) and ways to check the
public copy of it: no location, the face blurred."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from tests.support.clips import FACE_512

GPS_IFD = 0x8825
PUBLIC_URL = re.compile(r"^/api/v1/media/public/[0-9a-f]{64}\.(jpg|mp4)$")


def face_photo(path: Path) -> Path:
    """scikit-image's astronaut (a real face) as a 512 px JPEG with GPS tags in its EXIF."""
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (47.0, 37.0, 13.8), 3: "W", 4: (122.0, 20.0, 57.5)}
    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=92, exif=exif.tobytes())
    assert has_gps(path.read_bytes())
    return path


def has_gps(jpeg: bytes) -> bool:
    """True if the JPEG's EXIF holds any GPS tag."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))


def sharpness(image: Image.Image) -> float:
    """Mean step between neighbouring pixels: a blurred face has far smaller steps."""
    grey = np.asarray(image.convert("L"), np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def face_sharpness(jpeg: bytes) -> float:
    """The sharpness of the astronaut's face in a 512 px copy of the photo."""
    x, y, w, h = FACE_512
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.size == (512, 512)
        return sharpness(image.crop((x, y, x + w, y + h)))
