"""Photos: type from content, size limits, faces and plates blurred, every metadata dropped."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from townsquare.errors import InvalidParameter, PayloadTooLarge

pillow_heif.register_heif_opener()
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
PLATES = "haarcascade_russian_plate_number.xml"


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    return None


@dataclass(frozen=True, slots=True)
class Derivative:
    """The public form of a photo."""

    data: bytes
    width: int
    height: int
    regions: int


def _regions(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    found: list[tuple[int, int, int, int]] = []
    for name in (*CASCADES, PLATES):
        detector = cv2.CascadeClassifier(str(cv2.data.haarcascades) + name)  # type: ignore[attr-defined]
        for x, y, w, h in detector.detectMultiScale(gray, 1.1, 4, minSize=(24, 24)):
            found.append((int(x), int(y), int(w), int(h)))
    return found


def blur_regions(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Blur every detected face and plate (with a margin) in an RGB array."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    regions = _regions(gray)
    height, width = gray.shape
    for x, y, w, h in regions:
        pad_w, pad_h = w // 4, h // 4
        x0, y0 = max(0, x - pad_w), max(0, y - pad_h)
        x1, y1 = min(width, x + w + pad_w), min(height, y + h + pad_h)
        patch = rgb[y0:y1, x0:x1]
        kernel = max(31, (max(w, h) // 2) | 1)
        rgb[y0:y1, x0:x1] = cv2.GaussianBlur(patch, (kernel, kernel), 0)
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
