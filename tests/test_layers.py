"""Imports flow one way through the layers, and no packages import each other in a circle.

base → tables (every domain's `models`: table definitions, which any layer may read) →
privacy → incidents → domains → housekeeping → http (`http`, `web`, every domain's `views`)
→ composition (`platform`, `app`, `cli`, every domain's `cli`, the migrations and their
table list). A module may import its own layer or one below. The import graph is read from
the source by `scripts/import_cycles.py`, the same script a developer runs to see the cycles.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "base",
        frozenset(
            {"", "settings", "db", "errors", "geo", "shapes", "taxonomy", "audit", "events"}
            | {"mail", "templating", "logs", "commands", "plugins", "places", "deployment"}
            | {"sealing", "setting_files", "i18n"}
        ),
    ),
    ("tables", frozenset()),
    ("privacy", frozenset({"privacy"})),
    ("incidents", frozenset({"incidents"})),
    (
        "domains",
        frozenset(
            {"accounts", "ingest", "posts", "agencies", "footage", "media", "alerts", "live"}
            | {"feedback", "weekly", "formats", "desk", "moderation", "open311", "tiles"}
        ),
    ),
    ("housekeeping", frozenset({"housekeeping"})),
    ("http", frozenset({"http", "web"})),
    ("composition", frozenset({"platform", "app", "cli", "migrations", "compiled"})),
)
RANK = {package: rank for rank, (_, packages) in enumerate(LAYERS) for package in packages}
TABLES, HTTP = (
    next(r for r, (name, _) in enumerate(LAYERS) if name == n) for n in ("tables", "http")
)
FACES = {"models": TABLES, "views": HTTP, "rights_views": HTTP}
TOP = len(LAYERS) - 1


def _script() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "scripts" / "import_cycles.py"
    spec = importlib.util.spec_from_file_location("import_cycles", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layer_of(module: str) -> int:
    """A module's layer: its package's, but a domain's tables, views and cli have their own."""
    parts = module.split(".")[1:]
    package = parts[0] if parts else ""
    if len(parts) == 2 and RANK.get(package, 0) < HTTP and parts[1] in FACES:
        return FACES[parts[1]]
    if len(parts) == 2 and parts[1] == "cli":
        return TOP
    assert package in RANK, f"townsquare.{package} is in no layer: add it to LAYERS"
    return RANK[package]


def _describe(module: str) -> str:
    return f"{module} ({LAYERS[layer_of(module)][0]})"


def test_every_import_runs_down_the_layers() -> None:
    edges = _script().graph(by_package=False)
    upward = sorted(
        f"{_describe(source)} imports {_describe(target)}"
        for source, targets in edges.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )
    assert upward == [], "imports against the layers:\n" + "\n".join(upward)


def test_no_packages_import_each_other_in_a_circle() -> None:
    script = _script()
    edges = script.graph(by_package=False)
    units: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            a, b = _unit(source), _unit(target)
            if a != b:
                units.setdefault(a, set()).add(b)
    circles = script.cycles(units)
    assert circles == [], "packages in a circle: " + "; ".join(" ↔ ".join(c) for c in circles)


def _unit(module: str) -> str:
    """The package, with its tables, views and cli counted apart (they sit in other layers)."""
    package = ".".join(module.split(".")[:2])
    layer = layer_of(module)
    return package if layer == layer_of(package) else f"{package}:{LAYERS[layer][0]}"
