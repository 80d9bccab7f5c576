"""Helpers that write a CSV feed and its source TOML, so tests ingest through the real path."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from townsquare.ingest.config import SourceConfig, load_source_config

COLUMNS = ["Incident Number", "Type", "Datetime", "Address", "Latitude", "Longitude"]


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings, numbers and lists of them are valid TOML as JSON


def write_source(
    folder: Path,
    rows: Iterable[Mapping[str, str]],
    categories: Mapping[str, str],
    *,
    slug: str = "test-feed",
    columns: list[str] | None = None,
    policy: Mapping[str, Mapping[str, Any]] | None = None,
    loosen_reason: str | None = None,
) -> SourceConfig:
    """A CSV of `rows` and a source TOML reading it (ISO times, separate coordinates)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{slug}.csv"
    header = columns or COLUMNS
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f'slug = "{slug}"',
        'name = "Test feed"',
        'kind = "csv"',
        f"location = {json.dumps(str(data))}",
        'time_zone = "America/Los_Angeles"',
        "",
        "[agency]",
        'slug = "test-agency"',
        'name = "Test Fire Department"',
        'time_zone = "America/Los_Angeles"',
        "",
        "[fields]",
        'external_id = "Incident Number"',
        'call_type = "Type"',
        'address = "Address"',
        'latitude = "Latitude"',
        'longitude = "Longitude"',
        'occurred_at = { column = "Datetime", formats = ["iso8601"] }',
        "",
        "[categories]",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in categories.items()),
    ]
    if policy or loosen_reason:
        lines += ["", "[policy]"]
        if loosen_reason:
            lines.append(f"loosen_reason = {json.dumps(loosen_reason)}")
        for section, values in (policy or {}).items():
            lines.append(f"[policy.{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    path = folder / f"{slug}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_source_config(path)
