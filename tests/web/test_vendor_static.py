"""scripts/vendor_static.py: the pages' npm packages copied into static/vendor/, pinned."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "vendor_static.py"


@pytest.fixture(scope="module")
def vendor_static() -> ModuleType:
    """The script, imported from its file."""
    spec = importlib.util.spec_from_file_location("vendor_static", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_checkout(root: Path, versions: dict[str, str], installed: dict[str, str]) -> None:
    """A package.json pinning `versions` and a node_modules/ holding `installed`."""
    (root / "package.json").write_text(json.dumps({"dependencies": versions}))
    for name, version in installed.items():
        package = root / "node_modules" / name
        (package / "dist" / "images").mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"version": version}))
        for path in (
            "LICENSE",
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/htmx.min.js",
            "dist/images/layers.png",
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "MIT-LICENCE.txt",
            "dist/protomaps-leaflet.js",
        ):
            (package / path).write_text(f"{name} {path}")


PINNED = {
    "leaflet": "1.9.4",
    "leaflet.markercluster": "1.5.3",
    "htmx.org": "2.0.11",
    "swagger-ui-dist": "5.35.0",
    "protomaps-leaflet": "5.1.0",
}


def test_real_package_json_pins_exact_versions(vendor_static: ModuleType) -> None:
    pinned = vendor_static.pinned_versions(SCRIPT.parents[1])
    assert set(pinned) == {
        "leaflet",
        "leaflet.markercluster",
        "htmx.org",
        "swagger-ui-dist",
        "protomaps-leaflet",
    }
    assert all(v[0].isdigit() for v in pinned.values()), pinned  # no ranges


def test_copies_the_files_the_pages_load(vendor_static: ModuleType, tmp_path: Path) -> None:
    fake_checkout(tmp_path, PINNED, PINNED)
    stale = tmp_path / vendor_static.VENDOR / "old.js"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")
    assert vendor_static.main(["--root", str(tmp_path)]) == 0
    vendor = tmp_path / vendor_static.VENDOR
    for path in (
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/images/layers.png",
        "htmx/htmx.min.js",
        "htmx/LICENSE",
        "markercluster/leaflet.markercluster.js",
        "swagger-ui/swagger-ui-bundle.js",
        "protomaps-leaflet/protomaps-leaflet.js",
        "protomaps-leaflet/LICENSE",
    ):
        assert (vendor / path).is_file(), path
    assert not stale.exists()


def test_refuses_a_stale_node_modules(
    vendor_static: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_checkout(tmp_path, PINNED, {**PINNED, "leaflet": "1.9.3"})
    assert vendor_static.main(["--root", str(tmp_path)]) == 1
    assert "leaflet 1.9.3 installed but package.json pins 1.9.4" in capsys.readouterr().err


def test_refuses_a_missing_install(
    vendor_static: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_checkout(tmp_path, PINNED, {})
    assert vendor_static.main(["--root", str(tmp_path)]) == 1
    assert "run `npm ci` first" in capsys.readouterr().err
