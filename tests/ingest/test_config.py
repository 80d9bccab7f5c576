"""Source TOML files: the shipped ones load; a wrong one fails naming the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from townsquare import taxonomy
from townsquare.errors import ConfigError
from townsquare.ingest.config import (
    MAPPINGS_DIR,
    SourceConfig,
    bundled_mappings,
    load_source_config,
)

MINIMAL = """
slug = "test-feed"
name = "Test feed"
kind = "csv"
location = "calls.csv"

[agency]
slug = "test-agency"
name = "Test agency"
time_zone = "America/Chicago"

[fields]
external_id = "id"
call_type = "type"
latitude = "lat"
longitude = "lon"
occurred_at = { column = "when", formats = ["%Y-%m-%d %H:%M"] }

[categories]
"Fire" = "fire.structure"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feed.toml"
    path.write_text(text, "utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_source_config(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_shipped_mappings_load() -> None:
    found = bundled_mappings()
    assert set(found) >= {"seattle_fire_911", "sf_fire_calls"}
    samples = MAPPINGS_DIR.parent.parent / "samples"
    for path in found.values():
        config = load_source_config(path)
        if config.is_url() or config.push:  # live or pushed: its recorded sample ships alongside
            assert any((samples / path.stem).iterdir()), f"{path.name}: no recorded sample"
        else:
            assert Path(config.location).is_file(), f"{path.name}: sample file missing"


def test_seattle_mapping_reads_the_offset_and_the_exporter_bugs() -> None:
    config = load_source_config(bundled_mappings()["seattle_fire_911"])
    spec = config.fields.occurred_at[0]
    assert (spec.offset, spec.hour_24) == ("use", "noon")
    assert spec.twelve_pm_means_midnight_before == date(2011, 11, 8)
    assert set(config.categories.values()) == {"traffic.collision", "traffic.collision_freeway"}


def test_sf_mapping_falls_back_from_available_time_to_call_date() -> None:
    config = load_source_config(bundled_mappings()["sf_fire_calls"])
    assert [s.column for s in config.fields.occurred_at] == ["AvailableDtTm", "CallDate"]
    assert config.fields.missing == ["null"]
    assert config.categories["Medical Incident"] == "medical"
    assert taxonomy.get("medical").sensitive


def test_relative_location_resolves_against_the_toml_folder(tmp_path: Path) -> None:
    config = load_source_config(_write(tmp_path, MINIMAL))
    assert config.location == str(tmp_path / "calls.csv")
    assert not config.is_url()


def test_url_location_is_kept_and_time_zone_defaults_to_the_agency(tmp_path: Path) -> None:
    text = MINIMAL.replace('"calls.csv"', '"https://example.org/calls.csv"')
    config = load_source_config(_write(tmp_path, text))
    assert config.location == "https://example.org/calls.csv"
    assert config.is_url()
    assert config.time_zone == "America/Chicago"


@pytest.mark.parametrize(
    ("change", "key", "detail"),
    [
        (('"fire.structure"', '"fire.big"'), "categories", "'Fire' -> 'fire.big'"),
        (('kind = "csv"', 'kind = "gopher"'), "kind", "kind 'gopher'; known kinds: arcgis"),
        (
            ('time_zone = "America/Chicago"', 'time_zone = "Mars/Olympus"'),
            "agency.time_zone",
            "Mars/Olympus",
        ),
        (
            ('formats = ["%Y-%m-%d %H:%M"]', 'formats = ["YYYY-MM-DD"]'),
            "fields.occurred_at.0.formats",
            "YYYY-MM-DD",
        ),
        (('call_type = "type"', 'call_typ = "type"'), "fields.call_typ", "Extra inputs"),
        (('longitude = "lon"', ""), "fields", "latitude and longitude go together"),
        (('slug = "test-feed"', 'slug = "Test Feed"'), "slug", "pattern"),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, detail: str
) -> None:
    old, new = change
    assert old in MINIMAL
    message = _error(tmp_path, MINIMAL.replace(old, new, 1))
    assert f"{key}:" in message
    assert detail in message


def test_bbox_must_be_ordered(tmp_path: Path) -> None:
    message = _error(tmp_path, "bbox = [10, 0, 5, 1]\n" + MINIMAL)
    assert "bbox: bbox must be [west, south, east, north]" in message


def test_headerless_csv_needs_the_columns_the_fields_use(tmp_path: Path) -> None:
    text = MINIMAL + '\n[csv]\nheader = false\ncolumns = ["id", "type", "lat", "lon"]\n'
    message = _error(tmp_path, text)
    assert "fields name columns not in csv.columns: ['when']" in message
    assert "header = false needs columns" in _error(tmp_path, MINIMAL + "\n[csv]\nheader = false\n")


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_source_config(tmp_path / "absent.toml")
    assert "not valid TOML" in _error(tmp_path, MINIMAL + "\nname = \n")


def test_occurred_at_accepts_one_table_or_a_list(tmp_path: Path) -> None:
    config = load_source_config(_write(tmp_path, MINIMAL))
    assert isinstance(config, SourceConfig)
    assert [s.column for s in config.fields.occurred_at] == ["when"]
    assert config.fields.occurred_at[0].ambiguous == "earlier"
