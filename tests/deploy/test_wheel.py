"""A release wheel built from a clean checkout serves the map with every file it names.

The checkout is a `git clone` of this commit (no node_modules/, no vendored files), with
`npm ci` from npm's cache and the wheel built as a release is (`pip wheel`, isolated build:
setup.py vendors the front-end files). It is installed into a fresh venv with the pinned
constraints; the dependencies are those already installed for the tests (a .pth file), since
downloading them again takes minutes and is not what is being checked: the package's files.
"""

from __future__ import annotations

import os
import re
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.nodes import nodes

pytestmark = pytest.mark.deploy
ROOT = Path(__file__).resolve().parents[2]
QUIET = {"SCARF_ANALYTICS": "false", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": ""}
"""PYTHONPATH emptied: nothing may come from the working tree, only from the wheel."""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> None:
    """A command of the release procedure; its output is shown when it fails."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **QUIET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"


def test_a_wheel_from_a_clean_checkout_serves_the_map_and_all_its_files(tmp_path: Path) -> None:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    checkout = tmp_path / "checkout"
    run("git", "clone", "--quiet", "--no-checkout", ROOT, checkout, cwd=tmp_path)
    run("git", "checkout", "--quiet", head, cwd=checkout)
    assert not (checkout / "src/townsquare/web/static/vendor").exists()
    refused = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", "dist", "."],
        cwd=checkout,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode != 0  # no npm ci yet: no wheel without the map's files
    assert "run `npm ci" in refused.stdout + refused.stderr
    run("npm", "ci", "--offline", "--omit=dev", "--no-audit", "--no-fund", cwd=checkout)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "-w",
        "dist",
        ".",
        cwd=checkout,
    )
    (wheel,) = (checkout / "dist").glob("townsquare-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "townsquare/web/static/vendor/leaflet/leaflet.js" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)  # pip from here:
    python = venv / "bin" / "python"
    constraints = checkout / "constraints.txt"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "-c",
        constraints,
        wheel,
        cwd=tmp_path,
    )
    inside = subprocess.run(
        [python, "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(inside) / "test_dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    townsquare = venv / "bin" / "townsquare"
    data = {"TOWNSQUARE_DATA_DIR": str(tmp_path / "var"), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    run(townsquare, "db", "upgrade", cwd=tmp_path, env=data)  # as docs/deploy.md says

    env = {**QUIET, **data, "TOWNSQUARE_LOG_LEVEL": "WARNING"}
    with nodes([env], [tmp_path / "serve.log"], command=[str(townsquare)]) as (base,):
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        files = re.findall(r'(?:src|href)="(/static/[^"?]+)', page.text)
        assert any(f.endswith("leaflet.js") for f in files)
        assert any(f.endswith("htmx.min.js") for f in files)
        missing = [f for f in files if httpx.get(f"{base}{f}").status_code != 200]
        assert missing == []
        docs = httpx.get(f"{base}/api/v1/docs")
        for name in re.findall(r'"(/static/vendor/[^"]+)"', docs.text):
            assert httpx.get(f"{base}{name}").status_code == 200, name
