"""Draw the app icons (the favicon's rings) as PNGs: run once, commit what it writes.

    python scripts/make_icons.py

Writes src/townsquare/web/static/icons/: icon-192.png, icon-512.png, icon-maskable-512.png
(the mark inside the central 80% safe zone on a full-bleed background) and apple-touch-icon.png
(180 px, opaque), plus og-image.png (1200x630), the picture of a shared link.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "src" / "townsquare" / "web" / "static" / "icons"
NIGHT, RING, CORE = (15, 27, 45), (90, 169, 240), (255, 191, 71)
SCALE = 4  # drawn larger, then reduced: smooth edges without an anti-aliasing library


def mark(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    """The favicon's mark, on a circle of `radius` (the SVG's 14 of 32)."""
    unit = radius / 14
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=NIGHT)
    ring, width = 9.5 * unit, 3 * unit
    draw.ellipse(
        (
            cx - ring - width / 2,
            cy - ring - width / 2,
            cx + ring + width / 2,
            cy + ring + width / 2,
        ),
        fill=RING,
    )
    inner = ring - width / 2
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=NIGHT)
    core = 4 * unit
    draw.ellipse((cx - core, cy - core, cx + core, cy + core), fill=CORE)


def icon(size: int, *, full_bleed: bool, safe: float = 1.0) -> Image.Image:
    """A square icon: the mark alone on transparency, or on the night colour edge to edge."""
    big = size * SCALE
    background = (*NIGHT, 255) if full_bleed else (0, 0, 0, 0)
    image = Image.new("RGBA", (big, big), background)
    mark(ImageDraw.Draw(image), big / 2, big / 2, big / 2 * safe * (14 / 16))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def share_image() -> Image.Image:
    """1200x630: the mark and the name, for link previews."""
    width, height = 1200, 630
    image = Image.new("RGB", (width * 2, height * 2), NIGHT)
    draw = ImageDraw.Draw(image)
    mark(draw, 2 * 230, 2 * 315, 2 * 170)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 2 * 96)
        small = ImageFont.truetype("DejaVuSans.ttf", 2 * 40)
    except OSError:
        font = small = ImageFont.load_default()
    draw.text((2 * 440, 2 * 230), "Townsquare", fill=(255, 255, 255), font=font)
    draw.text(
        (2 * 445, 2 * 360), "Public safety calls near a place", fill=(213, 219, 230), font=small
    )
    return image.resize((width, height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every icon."""
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, full_bleed=False).save(OUT / "icon-192.png", optimize=True)
    icon(512, full_bleed=False).save(OUT / "icon-512.png", optimize=True)
    icon(512, full_bleed=True, safe=0.8).save(OUT / "icon-maskable-512.png", optimize=True)
    icon(180, full_bleed=True, safe=0.9).convert("RGB").save(
        OUT / "apple-touch-icon.png", optimize=True
    )
    share_image().save(OUT / "og-image.png", optimize=True)


if __name__ == "__main__":
    main()
