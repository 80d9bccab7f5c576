"""Copy the pages' front-end packages from node_modules/ into the package's static/vendor/.

Run after `npm ci` (the Makefile's install target does both). The pages load Leaflet and
htmx from our own server only, so no request leaves the machine. The copy is checked against
the exact versions that package.json pins, so a stale node_modules/ fails loudly.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path("src/townsquare/web/static/vendor")

# package -> (source path in the package, destination path under vendor/)
FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "leaflet": (
        ("dist/leaflet.js", "leaflet/leaflet.js"),
        ("dist/leaflet.css", "leaflet/leaflet.css"),
        ("dist/images", "leaflet/images"),
        ("LICENSE", "leaflet/LICENSE"),
    ),
    # Clusters of the feed map's markers when zoomed out (its own CSS, no default theme:
    # townsquare.css draws the clusters).
    "leaflet.markercluster": (
        ("dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
        ("dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
        ("MIT-LICENCE.txt", "markercluster/LICENSE"),
    ),
    "htmx.org": (
        ("dist/htmx.min.js", "htmx/htmx.min.js"),
        ("LICENSE", "htmx/LICENSE"),
    ),
    # Draws the self-hosted PMTiles street basemap on the Leaflet maps (static/basemap.js).
    "protomaps-leaflet": (
        ("dist/protomaps-leaflet.js", "protomaps-leaflet/protomaps-leaflet.js"),
        ("LICENSE", "protomaps-leaflet/LICENSE"),
    ),
    # The API's interactive docs at /api/v1/docs, served from here instead of a CDN.
    "swagger-ui-dist": (
        ("swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
        ("swagger-ui.css", "swagger-ui/swagger-ui.css"),
        ("LICENSE", "swagger-ui/LICENSE"),
    ),
}


class VendorError(Exception):
    """node_modules/ does not hold what package.json asks for."""


def pinned_versions(root: Path) -> dict[str, str]:
    """The exact versions package.json pins for the vendored packages."""
    wanted: dict[str, str] = json.loads((root / "package.json").read_text("utf-8"))["dependencies"]
    missing = sorted(set(FILES) - set(wanted))
    if missing:
        raise VendorError(f"package.json does not list {', '.join(missing)}")
    return {name: wanted[name] for name in FILES}


def installed_version(root: Path, name: str) -> str:
    """The version of `name` that npm installed under node_modules/."""
    manifest = root / "node_modules" / name / "package.json"
    if not manifest.is_file():
        raise VendorError(f"{name} is not installed: run `npm ci` first")
    version: str = json.loads(manifest.read_text("utf-8"))["version"]
    return version


def vendor(root: Path) -> list[Path]:
    """Replace static/vendor/ with fresh copies; returns the files written."""
    for name, version in pinned_versions(root).items():
        found = installed_version(root, name)
        if found != version:
            raise VendorError(f"{name} {found} installed but package.json pins {version}: npm ci")
    target = root / VENDOR
    if target.exists():
        shutil.rmtree(target)
    written: list[Path] = []
    for name, pairs in FILES.items():
        for source, destination in pairs:
            src, dst = root / "node_modules" / name / source, target / destination
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
                written.extend(p for p in dst.rglob("*") if p.is_file())
            else:
                shutil.copy2(src, dst)
                written.append(dst)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: vendor the packages, print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.root)
    except VendorError as exc:
        print(f"vendor_static: {exc}", file=sys.stderr)
        return 1
    print(f"vendor_static: {len(written)} files in {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
