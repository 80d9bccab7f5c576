"""The feed guide documents every key of a source file, and the reference mapping is valid."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from townsquare import taxonomy
from townsquare.ingest.config import MAPPINGS_DIR, SourceConfig
from townsquare.ingest.sources.registry import known_kinds, options_of

GUIDE = Path(__file__).parents[2] / "docs" / "add-a-feed.md"


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every key a source file may hold, dotted ("lifecycle.snapshot")."""
    for name, spec in model.model_fields.items():
        path = prefix + (spec.alias or name)
        yield path
        for nested in _models(spec.annotation):
            yield from keys(nested, path + ".")


def kind_keys() -> Iterator[str]:
    """Every key of the built-in kinds' own tables ("csv.delimiter")."""
    for kind in known_kinds():
        found = options_of(kind)
        if found is not None:
            table, model = found
            yield table
            yield from keys(model, table + ".")


def test_every_configuration_key_is_documented() -> None:
    text = GUIDE.read_text()
    every = list(keys(SourceConfig)) + list(kind_keys())
    assert {"csv.delimiter", "feed.max_entries", "arcgis.where"} <= set(every)
    assert "lifecycle.snapshot" in every
    assert "fields.occurred_at.ambiguous" in every
    assert [key for key in every if f"`{key}`" not in text] == []


def test_every_kind_has_a_row_in_the_guide() -> None:
    text = GUIDE.read_text()
    assert [kind for kind in known_kinds() if f"| `{kind}` |" not in text] == []


def test_the_reference_nature_codes_map_onto_the_taxonomy() -> None:
    table = tomllib.loads((MAPPINGS_DIR / "reference" / "nature_codes.toml").read_text())
    codes = {code for section in table.values() for code in section.values()}
    assert {"fire.structure", "medical", "traffic.collision"} <= codes
    assert codes <= set(taxonomy.categories())
    assert {"ME", "TC", "SF", "FA"} <= set(table["fire_ems"])


BASE: dict[str, Any] = {
    "slug": "docs-example",
    "name": "An example of the guide",
    "kind": "csv",
    "location": "https://data.example.gov/calls.csv",
    "agency": {"slug": "docs", "name": "Docs Fire", "time_zone": "America/Chicago"},
    "fields": {
        "external_id": "ID",
        "call_type": "TYPE",
        "latitude": "LAT",
        "longitude": "LON",
        "occurred_at": {"column": "WHEN", "formats": ["iso8601"]},
    },
    "categories": {"Structure Fire": "fire.structure"},
}


def test_every_toml_example_of_the_guide_is_a_valid_source_file() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), flags=re.S)
    checked = 0
    for block in blocks:
        data = tomllib.loads(block)
        if "options" in data:
            continue  # the third-party kind's table: tests/ingest/test_config.py registers it
        if "slug" not in data:
            fields = {**BASE["fields"], **data.get("fields", {})}
            if "geocode" in data:  # placed from the address: no coordinate columns
                fields = {k: v for k, v in fields.items() if k not in {"latitude", "longitude"}}
            data = {**BASE, **data, "fields": fields}
        SourceConfig.model_validate(data)
        checked += 1
    assert checked >= 8
