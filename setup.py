"""The wheel carries the pages' vendored front-end files (Leaflet, htmx, Swagger UI).

They are made from node_modules/ by scripts/vendor_static.py and are not in git, so building
the package runs that script first; without `npm ci` (and without files vendored already, as
in an sdist) the build stops with a message that says so, rather than ship a wheel with no map.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "src" / "townsquare" / "web" / "static" / "vendor"


class BuildWithVendoredFiles(build_py):
    """`build_py` that vendors the front-end packages before copying the package's files."""

    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            if (ROOT / "node_modules").is_dir():
                script = ROOT / "scripts" / "vendor_static.py"
                command = [sys.executable, str(script), "--root", str(ROOT)]
                subprocess.run(command, check=True)  # noqa: S603 (our own script)
            elif not (VENDOR / "leaflet" / "leaflet.js").is_file():
                raise SystemExit(
                    "townsquare build: the map's front-end files are missing; run "
                    "`npm ci --no-audit --no-fund` in the checkout first (they are vendored "
                    "from node_modules/ by scripts/vendor_static.py)"
                )
        super().run()


setup(cmdclass={"build_py": BuildWithVendoredFiles})
