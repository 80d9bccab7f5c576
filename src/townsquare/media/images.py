"""Photos: type from content, size limits, faces and plates blurred, every metadata dropped."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from townsquare.errors import InvalidParameter, PayloadTooLarge

pillow_heif.register_heif_opener()
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
PLATES = "haarcascade_russian_plate_number.xml"
HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
# Brands of the ISO base media files phones, action cameras, dashcams and drones write.
MP4_BRANDS = (
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71",
    b"avc1", b"M4V ", b"M4VP", b"MSNV", b"XAVC", b"3gp4", b"3gp5", b"3gp6", b"3g2a",
)  # fmt: skip
Box = tuple[int, int, int, int]
_local = threading.local()  # a CascadeClassifier is not safe to share between threads


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes (16 are enough), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in HEIF_BRANDS:
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in MP4_BRANDS:
            return "video/mp4"
    return None


@dataclass(frozen=True, slots=True)
class Derivative:
    """The public form of a photo."""

    data: bytes
    width: int
    height: int
    regions: int


def _detectors() -> list[cv2.CascadeClassifier]:
    found: list[cv2.CascadeClassifier] | None = getattr(_local, "detectors", None)
    if found is None:
        root = str(cv2.data.haarcascades)  # type: ignore[attr-defined]
        found = [cv2.CascadeClassifier(root + name) for name in (*CASCADES, PLATES)]
        _local.detectors = found
    return found


def find_regions(rgb: np.ndarray) -> list[Box]:
    """Boxes (x, y, w, h) of the faces and licence plates in an RGB array."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found: list[Box] = []
    for detector in _detectors():
        for x, y, w, h in detector.detectMultiScale(gray, 1.1, 4, minSize=(24, 24)):
            found.append((int(x), int(y), int(w), int(h)))
    return found


def blur_boxes(rgb: np.ndarray, boxes: list[Box]) -> None:
    """Blur each box, with a quarter margin on every side, in place."""
    height, width = rgb.shape[:2]
    for x, y, w, h in boxes:
        pad_w, pad_h = w // 4, h // 4
        x0, y0 = max(0, x - pad_w), max(0, y - pad_h)
        x1, y1 = min(width, x + w + pad_w), min(height, y + h + pad_h)
        kernel = max(31, (max(w, h) // 2) | 1)
        rgb[y0:y1, x0:x1] = cv2.GaussianBlur(rgb[y0:y1, x0:x1], (kernel, kernel), 0)


def blur_regions(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Blur every detected face and plate (with a margin) in an RGB array."""
    regions = find_regions(rgb)
    blur_boxes(rgb, regions)
    return rgb, len(regions)


def public_photo(data: bytes, max_pixels: int) -> Derivative:
    """A JPEG with faces and plates blurred and no metadata at all."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > max_pixels:
                raise PayloadTooLarge(f"photo over {max_pixels} pixels")
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise InvalidParameter("file", f"not a readable photo: {exc}") from exc
    rgb, regions = blur_regions(np.array(upright))
    out = io.BytesIO()
    # A new image from bare pixels: no EXIF, XMP, ICC or GPS can come along.
    Image.fromarray(rgb).save(out, "JPEG", quality=88)
    return Derivative(out.getvalue(), rgb.shape[1], rgb.shape[0], regions)
