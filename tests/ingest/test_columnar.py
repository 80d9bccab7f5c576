"""The columnar path gives the same items, records, quarantines and hashes as the per-record one.

Run over the real exports shipped with the package (Seattle, San Francisco, Houston) through the
shipped mappings, and over variants of those mappings that exercise the time rules (offsets
ignored, wall times that happen twice), plus a hand-made file of every fault we know.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from townsquare.ingest.columnar import pages as columnar_pages
from townsquare.ingest.columnar.digest import row_digests
from townsquare.ingest.columnar.pages import fetch as columnar_fetch
from townsquare.ingest.columnar.records import Normalized
from townsquare.ingest.columnar.tables import Page
from townsquare.ingest.config import (
    MAPPINGS_DIR,
    SourceConfig,
    bundled_mappings,
    load_source_config,
)
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.service import content_hash
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for

SAMPLES = MAPPINGS_DIR.parent.parent / "samples"  # the real exports shipped with the package
SEATTLE = SAMPLES / "seattle_fire_911" / "seattle_fire_911_calls_extract.csv"
SF = SAMPLES / "sf_fire_calls" / "sf-fire-calls.csv"
HOUSTON = sorted((SAMPLES / "houston_active_incidents").glob("*.json"))
with SEATTLE.open(newline="") as _rows:
    SEATTLE_ROWS = sum(1 for _ in csv.reader(_rows)) - 1  # less the header

Outcome = tuple[str, dict[str, str], Any]


def _config(mapping: str, location: Path, **changes: Any) -> SourceConfig:
    data = load_source_config(bundled_mappings()[mapping]).model_dump(exclude_unset=True)
    data["location"] = str(location)
    for key, value in changes.items():  # "fields.occurred_at.0.offset": "ignore"
        *path, last = key.split(".")
        target: Any = data
        for step in path:
            target = target[int(step)] if step.isdigit() else target[step]
        target[int(last) if last.isdigit() else last] = value
    return SourceConfig.model_validate(data)


def _outcome(item: RawItem, config: SourceConfig) -> Outcome:
    try:
        found: NormalizedRecord | tuple[str, str] = normalize(item, config)
    except NormalizeError as exc:
        found = (exc.field, str(exc))
    return item.position, item.payload, found


def _both(config: SourceConfig) -> tuple[list[Outcome], list[Outcome]]:
    adapter = adapter_for(config.kind)
    per_record = [_outcome(item, config) for item in adapter.fetch(config)]
    columnar = list(columnar_fetch(adapter, config))
    assert all(item.normalized is not None for item in columnar)  # read as columns
    return per_record, [_outcome(item, config) for item in columnar]


def _assert_same(config: SourceConfig) -> list[Outcome]:
    per_record, columnar = _both(config)
    assert len(columnar) == len(per_record)
    for expected, found in zip(per_record, columnar, strict=True):
        assert found == expected
    return columnar


def _regular_share(config: SourceConfig) -> float:
    """The share of rows the columnar code normalized without the per-record code."""
    pages = [p for p in adapter_for(config.kind).pages(config) if isinstance(p, Page)]
    assert pages
    odd = sum(int(Normalized(page, config).odd.sum()) for page in pages)
    return 1 - odd / sum(page.rows for page in pages)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"fields.occurred_at.0.offset": "ignore"},
        {"fields.occurred_at.0.offset": "ignore", "fields.occurred_at.0.ambiguous": "infer"},
        {"fields.occurred_at.0.offset": "ignore", "fields.occurred_at.0.ambiguous": "reject"},
        {"fields.occurred_at.0.hour_24": "next_day", "bbox": [-122.40, 47.55, -122.25, 47.70]},
    ],
)
def test_seattle_export_normalizes_the_same(changes: dict[str, Any]) -> None:
    config = _config("seattle_fire_911", SEATTLE, **changes)
    outcomes = _assert_same(config)
    assert len(outcomes) == SEATTLE_ROWS
    assert any(isinstance(o[2], tuple) for o in outcomes)  # quarantines are compared too
    assert _regular_share(config) > 0.5  # rows without an id hash their cells


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"fields.occurred_at.0.ambiguous": "infer"},
        {"fields.occurred_at.0.ambiguous": "later", "fields.occurred_at.0.time_zone": "UTC"},
        {"unmapped": "quarantine", "fields.missing": []},
    ],
)
def test_sf_export_normalizes_the_same(changes: dict[str, Any]) -> None:
    config = _config("sf_fire_calls", SF, **changes)
    outcomes = _assert_same(config)
    assert len(outcomes) == 1000
    assert _regular_share(config) > 0.5


@pytest.mark.parametrize("snapshot", HOUSTON, ids=lambda p: p.name[5:20])
def test_houston_snapshots_normalize_the_same(snapshot: Path) -> None:
    config = _config("houston_active_incidents", snapshot)
    outcomes = _assert_same(config)
    assert outcomes
    assert _regular_share(config) > 0.9


def test_row_hashes_are_the_stores_content_hashes() -> None:
    for config in (
        _config("seattle_fire_911", SEATTLE),
        _config("sf_fire_calls", SF),
        _config("houston_active_incidents", HOUSTON[0]),
    ):
        for page in adapter_for(config.kind).pages(config):
            assert isinstance(page, Page)
            payloads = page.table.to_pylist()
            assert row_digests(page) == [content_hash(payload) for payload in payloads]


FAULTS = (
    "id,type,when,lat,lon,unit,address\n"
    "A1,Fire Alarm,2026-03-08 01:30:00,47.6,-122.3,E1,1 Pine St\n"
    "A2,Fire Alarm,2026-03-08 02:30:00,47.6,-122.3,E1,\n"  # clocks went forward
    "A3,Fire Alarm,2026-11-01 01:30:00,47.6,-122.3,E1, 2 Pine St \n"  # happens twice
    "A4,Fire Alarm,2026-11-01 24:10:00,47.6,-122.3,E1,3 Pine St\n"  # hour 24
    " A5 ,Fire Alarm,2026-11-02 10:00:00,47.6,-122.3,E1,4 Pine St\n"  # id to strip
    ",Fire Alarm,2026-11-02 10:00:00,47.6,-122.3,E1,5 Pine St\n"  # no id
    "A7,Unknown thing,2026-11-02 10:00:00,47.6,-122.3,E1,6 Pine St\n"  # unmapped
    "A8,Fire Alarm,2026-11-02 10:00:00,-122.3,47.6,E1,7 Pine St\n"  # swapped
    "A9,Fire Alarm,2026-11-02 10:00:00,0,0,E1,8 Pine St\n"  # placeholder
    "A10,Fire Alarm,2026-11-02 10:00:00,47.6,,E1,9 Pine St\n"  # no longitude
    "A11,Fire Alarm,2026-11-02 10:00:00,4.76e1,-122.3,E1,10 Pine St\n"  # exponent
    "A12,Fire Alarm,2026-11-02 10:00:00,47.6,-122.3," + "U" * 70 + ",11 Pine St\n"  # long unit
    "A13,,2026-11-02 10:00:00,47.6,-122.3,E1,12 Pine St\n"  # no call type
    "A14,Fire Alarm,yesterday,47.6,-122.3,E1,13 Pine St\n"  # no time
    'A15,"Fire Alarm",2026-11-02 10:00:00,47.6,-122.3,E1,"14 ""Pine"" St\t"\n'  # quotes, tab
    "A16,Fire Alarm,2026-11-02 10:00:00,47.6,-122.3,E1,15 Pine St\x01\n"  # control character
    "A1,Fire Alarm,2026-03-08 01:30:00,47.6,-122.3,E1,1 Pine St\n"  # a repeated row
    "A18,Fire Alarm,2026-11-02 10:00:00,+47.6,-122.3,n/a,16 Pine St\n"  # sign, missing unit
)


@pytest.mark.parametrize("ambiguous", ["infer", "earlier", "later", "reject"])
@pytest.mark.parametrize("hour_24", ["reject", "next_day"])
def test_every_known_fault_is_quarantined_with_its_field_as_before(
    tmp_path: Path, ambiguous: str, hour_24: str
) -> None:
    path = tmp_path / "faults.csv"
    path.write_text(FAULTS, encoding="utf-8")
    config = SourceConfig.model_validate(
        {
            "slug": "faults",
            "name": "Faults",
            "kind": "csv",
            "location": str(path),
            "time_zone": "America/Los_Angeles",
            "agency": {"slug": "f", "name": "F", "time_zone": "America/Los_Angeles"},
            "fields": {
                "missing": ["n/a"],
                "external_id": "id",
                "call_type": "type",
                "address": "address",
                "unit": "unit",
                "latitude": "lat",
                "longitude": "lon",
                "occurred_at": {
                    "column": "when",
                    "formats": ["%Y-%m-%d %H:%M:%S"],
                    "ambiguous": ambiguous,
                    "hour_24": hour_24,
                },
            },
            "categories": {"Fire Alarm": "fire.alarm"},
            "unmapped": "quarantine",
        }
    )
    outcomes = _assert_same(config)
    errors = {o[1]["id"]: o[2][0] for o in outcomes if isinstance(o[2], tuple)}
    assert errors["A7"] == "type"
    assert errors["A8"] == "lat"
    assert errors["A10"] == "lon"
    assert errors["A12"] == "unit"
    assert errors["A13"] == "type"
    assert errors["A14"] == "when"
    page = next(iter(adapter_for("csv").pages(config)))
    assert isinstance(page, Page)
    assert row_digests(page) == [content_hash(o[1]) for o in outcomes]


def test_json_records_normalize_the_same(tmp_path: Path) -> None:
    rows = [
        dict(zip(("id", "type", "when", "lat", "lon"), cells, strict=True))
        for cells in (
            ("J1", "Fire Alarm", 1_772_960_000_000, 47.6, -122.3),
            ("J2", "Fire Alarm", "1772960000000", "47.6", "-122.3"),
            ("J3", "Fire Alarm", None, 47.6, -122.3),  # no time
            ("J4", "Burglary", 1_772_960_000_500, 47, -122),  # unmapped; integer degrees
            ("J5", "Fire Alarm", 1.5e12, 147.6, -122.3),  # a float time; latitude out of range
            ("J6", True, 1_772_960_000_000, 47.6, -122.3),  # a boolean call type
        )
    ]
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"data": {"items": rows}}), encoding="utf-8")
    config = SourceConfig.model_validate(
        {
            "slug": "calls",
            "name": "Calls",
            "kind": "json",
            "location": str(path),
            "json": {"records": "data.items"},
            "time_zone": "America/Chicago",
            "agency": {"slug": "c", "name": "C", "time_zone": "America/Chicago"},
            "fields": {
                "external_id": "id",
                "call_type": "type",
                "latitude": "lat",
                "longitude": "lon",
                "occurred_at": {"column": "when", "formats": ["epoch_ms"]},
            },
            "categories": {"Fire Alarm": "fire.alarm"},
        }
    )
    outcomes = _assert_same(config)
    assert [o[0] for o in outcomes] == [f"record {n}" for n in range(1, 7)]
    errors = {o[1]["id"]: o[2][0] for o in outcomes if isinstance(o[2], tuple)}
    assert errors == {"J3": "when", "J5": "lat"}
    page = next(iter(adapter_for("json").pages(config)))
    assert isinstance(page, Page)
    assert row_digests(page) == [content_hash(o[1]) for o in outcomes]


def test_a_long_page_is_normalized_a_slice_at_a_time_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(columnar_pages, "SLICE_ROWS", 1000)
    outcomes = _assert_same(_config("seattle_fire_911", SEATTLE))
    assert outcomes[-1][0] == f"line {SEATTLE_ROWS + 1}"
