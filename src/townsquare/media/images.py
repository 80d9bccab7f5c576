"""Photos: type from content, pixel cap from the header, decoded small, faces and plates blurred,
every metadata dropped."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageOps

from townsquare.errors import InvalidParameter, PayloadTooLarge
from townsquare.media.faces import Box, find_faces

pillow_heif.register_heif_opener()
PLATES = "haarcascade_russian_plate_number.xml"
HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
# Brands of the ISO base media files phones, action cameras, dashcams and drones write.
MP4_BRANDS = (
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71",
    b"avc1", b"M4V ", b"M4VP", b"MSNV", b"XAVC", b"3gp4", b"3gp5", b"3gp6", b"3g2a",
)  # fmt: skip
PUBLIC_SIDE = 2048
"""Longest side of a published photo: a sighting needs no more, and it bounds decoding."""
TILE = 640
OVERLAP = 160
ORIENTATION = 0x0112
SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_local = threading.local()  # a CascadeClassifier is not safe to share between threads
PLATE_MIN = (24, 24)


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


def _plates() -> cv2.CascadeClassifier:
    found: cv2.CascadeClassifier | None = getattr(_local, "plates", None)
    if found is None:
        found = cv2.CascadeClassifier(str(cv2.data.haarcascades) + PLATES)  # type: ignore[attr-defined]
        _local.plates = found
    return found


def find_regions(rgb: np.ndarray) -> list[Box]:
    """Boxes (x, y, w, h) of the faces (CenterFace) and licence plates (Haar) in an RGB array."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    plates = _plates().detectMultiScale(gray, 1.1, 4, minSize=PLATE_MIN)
    return find_faces(rgb) + [(int(x), int(y), int(w), int(h)) for x, y, w, h in plates]


def blur_boxes(rgb: np.ndarray, boxes: list[Box]) -> None:
    """Blur each box, with a quarter margin on every side, in place."""
    height, width = rgb.shape[:2]
    for x, y, w, h in boxes:
        pad_w, pad_h = w // 4, h // 4
        x0, y0 = max(0, x - pad_w), max(0, y - pad_h)
        x1, y1 = min(width, x + w + pad_w), min(height, y + h + pad_h)
        kernel = max(31, (max(w, h) // 2) | 1)
        rgb[y0:y1, x0:x1] = cv2.GaussianBlur(rgb[y0:y1, x0:x1], (kernel, kernel), 0)


def find_regions_tiled(rgb: np.ndarray) -> list[Box]:
    """`find_regions` in bounded memory: over tiles, and over the whole at tile size.

    The plate cascade holds about 160 bytes per pixel searched (and keeps it for the next
    search), so a whole 3 MP photo cost ~500 MB; the face network always searches a
    640 x 640 input (`faces.SIDE`). Tiles of TILE px overlapping by OVERLAP hold every
    face up to OVERLAP px whole in one of them; the whole photo scaled to TILE finds the faces
    larger than that (from 24 px there, OVERLAP px here at the largest published size).
    """
    height, width = rgb.shape[:2]
    if max(height, width) <= TILE:
        return find_regions(rgb)
    factor = TILE / max(height, width)
    small = cv2.resize(
        rgb, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA
    )
    found = [
        (round(x / factor), round(y / factor), round(w / factor), round(h / factor))
        for x, y, w, h in find_regions(small)
    ]
    step = TILE - OVERLAP
    for top in range(0, max(height - OVERLAP, 1), step):
        for left in range(0, max(width - OVERLAP, 1), step):
            tile = np.ascontiguousarray(rgb[top : top + TILE, left : left + TILE])
            found += [(x + left, y + top, w, h) for x, y, w, h in find_regions(tile)]
    return _distinct(found)


def _distinct(boxes: list[Box]) -> list[Box]:
    """The boxes less those whose centre lies in a larger one kept (one face seen twice)."""
    kept: list[Box] = []
    for x, y, w, h in sorted(boxes, key=lambda b: -b[2] * b[3]):
        cx, cy = x + w // 2, y + h // 2
        if not any(a <= cx < a + c and b <= cy < b + d for a, b, c, d in kept):
            kept.append((x, y, w, h))
    return kept


def blur_regions(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """Blur every detected face and plate (with a margin) in an RGB array."""
    regions = find_regions_tiled(rgb)
    blur_boxes(rgb, regions)
    return rgb, len(regions)


def _pixels_checked(image: Image.Image, max_pixels: int) -> None:
    """Refuse, from the header alone, a photo with more pixels than the platform decodes."""
    if image.width * image.height > max_pixels:
        raise PayloadTooLarge(
            f"photos up to {max_pixels / 1e6:g} megapixels; this one is {image.width}x"
            f"{image.height} ({image.width * image.height / 1e6:.1f} MP)"
        )


def _opened(source: Path | bytes) -> Image.Image:
    """The photo with only its header read; refused when it is not one we read."""
    try:
        return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Image.DecompressionBombError as exc:
        raise PayloadTooLarge(f"photo too large to decode: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise InvalidParameter("file", f"not a readable photo: {exc}") from exc


def public_size(source: Path | bytes, max_pixels: int) -> tuple[int, int]:
    """The derivative's size, read from the header (nothing decoded); refuses over the cap."""
    with _opened(source) as image:
        _pixels_checked(image, max_pixels)
        width, height = image.size
        if image.getexif().get(ORIENTATION, 1) in SIDEWAYS:
            width, height = height, width
    scale = min(1.0, PUBLIC_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def public_photo(source: Path | bytes, max_pixels: int) -> Derivative:
    """A JPEG at most PUBLIC_SIDE wide and high, faces and plates blurred, no metadata at all.

    Decoded within the pixel cap (checked from the header first), JPEGs at the smallest DCT
    scale that still gives PUBLIC_SIDE (1/2 to 1/8: a 40 MP photo decodes as 10 MP), so the
    faces are searched and blurred on what is published, not on the full frame.
    """
    try:
        with _opened(source) as image:
            _pixels_checked(image, max_pixels)
            image.draft("RGB", _fit(image.size))
            image.thumbnail((PUBLIC_SIDE, PUBLIC_SIDE), Image.Resampling.LANCZOS)
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise InvalidParameter("file", f"not a readable photo: {exc}") from exc
    rgb = np.array(upright)
    del upright
    rgb, regions = blur_regions(rgb)
    out = io.BytesIO()
    # A new image from bare pixels: no EXIF, XMP, ICC or GPS can come along.
    Image.fromarray(rgb).save(out, "JPEG", quality=88)
    return Derivative(out.getvalue(), rgb.shape[1], rgb.shape[0], regions)


def _fit(size: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down to fit PUBLIC_SIDE, keeping its shape."""
    scale = min(1.0, PUBLIC_SIDE / max(size))
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))
