"""Source TOML files: the shipped ones load; a wrong one fails naming the file and the key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from townsquare import taxonomy
from townsquare.cli import app
from townsquare.errors import ConfigError
from townsquare.ingest import service
from townsquare.ingest.config import (
    MAPPINGS_DIR,
    SourceConfig,
    bundled_mappings,
    load_source_config,
)
from townsquare.ingest.models import Source
from townsquare.ingest.sources.base import KindOptions, RawItem
from townsquare.ingest.sources.registry import KINDS, register_kind

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
    assert config.fields.occurred_at[0].ambiguous == "infer"


# --- a third-party kind with options of its own, registered the way entry points are --------


class PipeOptions(KindOptions):
    """The `[options]` table of the pipe kind."""

    separator: str = Field(default="|", min_length=1, max_length=1)
    comment: str = "#"
    """Lines starting with this are skipped."""


class PipeSource:
    """Records as separated lines, "id|type|lat|lon|when": what a package outside would ship."""

    kind: ClassVar[str] = "pipe"
    Options: ClassVar[type[PipeOptions]] = PipeOptions

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """One item per line that is not a comment."""
        options = config.kind_options(PipeOptions)
        lines = Path(config.location).read_text("utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if line and not line.startswith(options.comment):
                cells = line.split(options.separator)
                yield RawItem(f"line {number}", dict(zip(COLUMNS, cells, strict=False)))


COLUMNS = ("id", "type", "lat", "lon", "when")
PIPE = MINIMAL.replace('kind = "csv"', 'kind = "pipe"').replace('"calls.csv"', '"calls.txt"')


@pytest.fixture
def pipe_kind() -> Iterator[None]:
    """The pipe kind registered for one test."""
    register_kind(PipeSource)
    yield
    KINDS.unregister("pipe")


def test_a_third_party_kind_carries_its_options_from_file_to_store(
    tmp_path: Path, pipe_kind: None, factory: sessionmaker[Session]
) -> None:
    (tmp_path / "calls.txt").write_text(
        "// exported 2026-11-30\nF1;Fire;47.61;-122.33;2026-11-30 10:00\n", "utf-8"
    )
    path = _write(tmp_path, PIPE + '\n[options]\nseparator = ";"\ncomment = "//"\n')
    config = load_source_config(path)
    assert config.kind_options(PipeOptions) == PipeOptions(separator=";", comment="//")

    report = service.ingest(factory, config, now=datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert (report.received, report.created, report.quarantined) == (1, 1, 0)
    with factory() as session:
        stored = session.scalars(select(Source)).one().config
        assert stored["options"] == {"separator": ";", "comment": "//"}
        again = SourceConfig.model_validate(stored)  # how the scheduler reads it back
    assert again.kind_options(PipeOptions).separator == ";"


def test_option_errors_name_the_file_the_table_and_the_key(tmp_path: Path, pipe_kind: None) -> None:
    message = _error(tmp_path, PIPE + '\n[options]\nseparator = ";;"\nquote = "x"\n')
    assert "options.separator: String should have at most 1 character" in message
    assert "options.quote: Extra inputs are not permitted" in message
    # a kind that declares no options takes no [options] table, nor another kind's table
    assert "options: not a key of a 'csv' source" in _error(tmp_path, MINIMAL + "\n[options]\n")
    assert "arcgis: not a key of a 'csv' source" in _error(
        tmp_path, MINIMAL + '\n[arcgis]\nwhere = "1=1"\n'
    )


def test_sources_check_reports_an_option_error_and_exits_2(tmp_path: Path, pipe_kind: None) -> None:
    path = _write(tmp_path, PIPE + "\n[options]\nseparator = 7\n")
    result = CliRunner().invoke(app, ["sources", "check", str(path)])
    assert result.exit_code == 2
    assert f"error: {path}: options.separator: Input should be a valid string" in result.stderr


def test_a_configuration_stored_before_kinds_had_options_still_loads() -> None:
    shipped = load_source_config(bundled_mappings()["seattle_fire_911"]).model_dump(mode="json")
    old = {**shipped, "arcgis": {}, "socrata": {}, "json_": {"records": ""}, "feed": {}}
    assert SourceConfig.model_validate(old) == SourceConfig.model_validate(shipped)
