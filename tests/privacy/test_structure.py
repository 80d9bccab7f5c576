"""Public output can be built only from sealed public values, and only through `to_public`.

The type check: `IncidentPublic` refuses plain strings and floats, unvalidated construction
and copying with changes. The structure check reads the source: only the privacy package
mints public values, only `incidents.service` builds `IncidentPublic`, and no route or
format module touches a table model directly.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.incidents import service
from townsquare.incidents.schemas import IncidentPublic
from townsquare.platform import Platform
from townsquare.privacy.public import seal_address, seal_point, seal_text
from townsquare.privacy.types import BlockAddress, CoarsePoint, ScrubbedText
from townsquare.settings import Settings

SRC = Path(__file__).parents[2] / "src" / "townsquare"
WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SEALED = {"ScrubbedText", "BlockAddress", "CoarsePoint"}


def _fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": 1,
        "category": "fire.structure",
        "category_label": "Structure fire",
        "title": seal_text("Structure Fire"),
        "summary": seal_text(""),
        "original_type": seal_text("Structure Fire"),
        "address_block": seal_address("1200 block of Pine St"),
        "point": seal_point(47.6, -122.3),
        "occurred_at": WHEN,
        "published_at": WHEN,
        "updated_at": WHEN,
        "status": "active",
        "severity": 4,
        "origin": "dispatch",
        "provenance": "dispatch-confirmed",
        "agency": None,
        "alertable": False,
        "alert_reasons": [],
    }
    fields.update(changes)
    return fields


def test_sealed_values_build_a_public_incident() -> None:
    incident = IncidentPublic.model_validate(_fields())
    dumped = incident.model_dump(mode="json")
    assert "point" not in dumped
    assert dumped["address_block"] == "1200 block of Pine St"
    assert (dumped["lat"], dumped["lon"]) == (incident.point.lat, incident.point.lon)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "RP John Smith 206-555-0100"),
        ("summary", "plain text"),
        ("original_type", "Structure Fire"),
        ("address_block", "1234 Pine St Apt 5"),
        ("point", (47.60621, -122.33207)),
        ("point", {"lat": 47.60621, "lon": -122.33207}),
    ],
)
def test_plain_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        IncidentPublic.model_validate(_fields(**{field: value}))


def test_the_unvalidated_ways_in_are_closed() -> None:
    with pytest.raises(TypeError):
        IncidentPublic.model_construct(**_fields(title="RP John Smith"))
    incident = IncidentPublic.model_validate(_fields())
    with pytest.raises(TypeError):
        incident.model_copy(update={"title": "RP John Smith"})
    for make in (
        lambda: ScrubbedText("RP John Smith", object()),
        lambda: BlockAddress("1234 Pine St", object()),
        lambda: CoarsePoint(47.60621, -122.33207, 9, object()),
    ):
        with pytest.raises(TypeError, match=r"privacy\.public"):
            make()


def test_sealing_regeneralizes_an_exact_row_that_reached_the_store(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # A row written by a bug or by hand: exact house number, unit, contact details, exact point.
    with transaction(factory) as session:
        row = factories.incident(session, lat=47.6, lon=-122.3, occurred_at=WHEN)
        row.address_block = "4127 Phinney Ave N Apt 12"
        row.title = row.original_type = "Fire, RP Zebulon Quackenbush (206) 555-0147"
        row.summary = "Write to zq@example.org"
        row.lat, row.lon = 47.656312, -122.354477
        incident_id = row.id
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as client:
        body = client.get(f"/api/v1/incidents/{incident_id}").text
    with factory() as session:
        public = service.get_public(session, incident_id)
    assert public.address_block == "4100 block of Phinney Ave N"
    assert public.title == "Fire, RP [name] [phone]"
    assert public.summary == "Write to [email]"
    assert (public.lat, public.lon) != (47.656312, -122.354477)
    for secret in ("4127", "Apt", "Quackenbush", "555-0147", "zq@", "47.656312"):
        assert secret not in body


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = ".".join(("townsquare", *path.relative_to(SRC).with_suffix("").parts))
        found.append((name.removesuffix(".__init__"), ast.parse(path.read_text(), str(path))))
    return found


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _calls(tree: ast.Module) -> set[str]:
    """Names of what the module calls: `f(...)` gives "f", `m.f(...)` gives "f"."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", ""))
    return names


def _names(tree: ast.Module) -> set[str]:
    """Every name and attribute the module mentions."""
    return {
        node.id if isinstance(node, ast.Name) else node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Name | ast.Attribute)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_only_the_privacy_package_mints_public_values() -> None:
    minting = [name for name, tree in _modules() if "MINT" in _names(tree)]
    assert minting == ["townsquare.privacy.public", "townsquare.privacy.types"]
    constructing = [name for name, tree in _modules() if SEALED & _calls(tree)]
    assert constructing == ["townsquare.privacy.public"]


def test_only_to_public_builds_a_public_incident() -> None:
    builders = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            target = func.id if isinstance(func, ast.Name) else ""
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                target = f"{func.value.id}.{func.attr}"
            if target == "IncidentPublic" or target.startswith("IncidentPublic."):
                builders.append((name, target))
    assert builders == [("townsquare.incidents.service", "IncidentPublic")]


def _public_output_modules() -> list[tuple[str, ast.Module]]:
    return [
        (name, tree)
        for name, tree in _modules()
        if name.startswith(("townsquare.formats.", "townsquare.web.")) or name.endswith(".views")
    ]


def _is_model_module(name: str) -> bool:
    """Any package's `models` module (or a name inside it): new packages are covered too."""
    parts = name.split(".")
    return parts[0] == "townsquare" and "models" in parts[1:3]


def test_no_route_or_format_reads_a_table_model() -> None:
    modules = _public_output_modules()
    assert {"townsquare.formats.atom", "townsquare.incidents.views"} <= {n for n, _ in modules}
    offenders = {
        name: sorted(imported for imported in _imports(tree) if _is_model_module(imported))
        for name, tree in modules
    }
    assert {name: found for name, found in offenders.items() if found} == {}
