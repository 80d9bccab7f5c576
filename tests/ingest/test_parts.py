"""A field read from part of a column, or from several joined, on every kind of source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.feeds import FeedServer, Reply, Request, arcgis_layer, config, static
from townsquare.errors import ConfigError
from townsquare.ingest.config import SourceConfig, load_source_config
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for

TITLE = "ANIMAL PROBLEM - PRIORITY at 1800 block of NE 2nd Ave, Portland, Or"
ADDRESS_PART = {"column": "title", "pattern": r" at (?P<address>.+?)(?:, Portland.*)?$"}
TYPE_PART = {"column": "title", "split": " - ", "index": 0}
PORTLAND = [-122.9, 45.4, -122.4, 45.7]


def _fields(**columns: Any) -> dict[str, Any]:
    return {
        "external_id": columns.get("id", "id"),
        "call_type": TYPE_PART | {"column": columns.get("title", "title")},
        "address": ADDRESS_PART | {"column": columns.get("title", "title")},
        "location": {"column": columns.get("point", "point")},
        "occurred_at": {"column": columns.get("when", "when"), "formats": ["iso8601"]},
    }


def _source(kind: str, location: str, **extra: Any) -> SourceConfig:
    fields = _fields(**extra.pop("columns", {}))
    return config(
        kind,
        location,
        bbox=PORTLAND,
        fields=fields,
        categories={"ANIMAL PROBLEM": "animal"},
        **extra,
    )


def _only(items: Iterator[RawItem], source: SourceConfig) -> tuple[str, str | None]:
    [item] = list(items)
    record = normalize(item, source)
    return record.original_type, record.address


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


EXPECTED = ("ANIMAL PROBLEM", "1800 block of NE 2nd Ave")
ROW = {"id": "P1", "title": TITLE, "point": "45.535, -122.663", "when": "2026-11-28T10:00:00Z"}


def test_csv_part_of_a_column(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        'id,title,point,when\nP1,"' + TITLE + '","45.535, -122.663",2026-11-28T10:00Z\n'
    )
    source = _source("csv", str(path))
    assert _only(adapter_for("csv").fetch(source), source) == EXPECTED


def test_json_part_of_a_nested_column(server: FeedServer) -> None:
    document = {
        "calls": [
            {"id": "P1", "call": {"title": TITLE}, "point": ROW["point"], "when": ROW["when"]}
        ]
    }
    server.routes["/calls.json"] = static(json.dumps(document).encode(), "application/json")
    source = _source(
        "json",
        f"{server.url}/calls.json",
        json={"records": "calls"},
        columns={"title": "call.title"},
    )
    assert _only(adapter_for("json").fetch(source), source) == EXPECTED


def test_socrata_part_of_a_column(server: FeedServer) -> None:
    def resource(request: Request) -> Reply:
        body = json.dumps([ROW] if request.query["$offset"] == "0" else []).encode()
        return Reply(200, body, {"Content-Type": "application/json"})

    server.routes["/resource/abcd-1234.json"] = resource
    source = _source("socrata", f"{server.url}/resource/abcd-1234.json")
    assert _only(adapter_for("socrata").fetch(source), source) == EXPECTED


def test_arcgis_part_of_an_attribute(server: FeedServer) -> None:
    feature = {
        "attributes": {"ID": "P1", "TITLE": TITLE, "WHEN": ROW["when"]},
        "geometry": {"x": -122.663, "y": 45.535},
    }
    server.routes["/arcgis/rest/services/CAD/MapServer/0/query"] = arcgis_layer(
        lambda: {"features": [feature]}
    )
    source = config(
        "arcgis",
        f"{server.url}/arcgis/rest/services/CAD/MapServer/0",
        bbox=PORTLAND,
        fields={
            "external_id": "attributes.ID",
            "call_type": TYPE_PART | {"column": "attributes.TITLE"},
            "address": ADDRESS_PART | {"column": "attributes.TITLE"},
            "latitude": "geometry.y",
            "longitude": "geometry.x",
            "occurred_at": {"column": "attributes.WHEN", "formats": ["iso8601"]},
        },
        categories={"ANIMAL PROBLEM": "animal"},
    )
    assert _only(adapter_for("arcgis").fetch(source), source) == EXPECTED


ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:georss="http://www.georss.org/georss">
  <title>PPB/PF&amp;R dispatched calls</title>
  <entry>
    <id>urn:uuid:P1</id>
    <title>{TITLE}</title>
    <published>2026-11-28T10:00:00Z</published>
    <updated>2026-11-28T10:05:00Z</updated>
    <category term="ANIMAL" label="Animal" />
    <georss:point>45.535 -122.663</georss:point>
  </entry>
</feed>
""".encode()


def test_atom_part_of_the_title(server: FeedServer) -> None:
    server.routes["/calls.atom"] = static(ATOM, "application/atom+xml")
    source = _source("atom", f"{server.url}/calls.atom", columns={"when": "published"})
    [item] = list(adapter_for("atom").fetch(source))
    assert item.payload["category@term"] == "ANIMAL"
    record = normalize(item, source)
    assert (record.original_type, record.address) == EXPECTED
    assert record.occurred_at == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_pushed_json_part_of_a_column() -> None:
    source = _source(
        "push", "", push={"format": "json", "key_env": "K", "secret_env": "S"}, json={"records": ""}
    )
    body = json.dumps([ROW]).encode()
    assert _only(adapter_for("push").parse(source, body), source) == EXPECTED  # type: ignore[attr-defined]


def test_a_pattern_that_finds_nothing_quarantines_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        'id,title,point,when\nP1,"ANIMAL PROBLEM - PRIORITY","45.535, -122.663",2026-11-28T10:00Z\n'
    )
    source = _source("csv", str(path)).model_copy()
    strict = source.model_validate(
        {
            **source.model_dump(mode="json"),
            "fields": {
                **_fields(),
                "address": None,
                "external_id": ADDRESS_PART | {"column": "title"},
            },
        }
    )
    [item] = list(adapter_for("csv").fetch(strict))
    with pytest.raises(NormalizeError, match=r"no match of pattern") as caught:
        normalize(item, strict)
    assert caught.value.field == "title~address"


# --- date and time in two columns ---------------------------------------------------------

DATE_TIME = """slug = "two-columns"
name = "Date and time apart"
kind = "csv"
location = "calls.csv"
bbox = [-122.48, 47.47, -122.20, 47.78]

[agency]
slug = "test-fire"
name = "Test Fire"
time_zone = "America/Los_Angeles"

[fields]
external_id = "ID"
call_type = "TYPE"
latitude = "LAT"
longitude = "LON"
{occurred_at}

[categories]
"Aid Response" = "medical"
"""


def _two_columns(tmp_path: Path, occurred_at: str) -> SourceConfig:
    (tmp_path / "calls.csv").write_text(
        "ID,TYPE,DATE,TIME,LAT,LON\nF1,Aid Response,11/28/2026,21:04,47.6,-122.3\n"
    )
    path = tmp_path / "source.toml"
    path.write_text(DATE_TIME.format(occurred_at=occurred_at))
    return load_source_config(path)


@pytest.mark.parametrize(
    "occurred_at",
    [
        'occurred_at = { columns = ["DATE", "TIME"], formats = ["%m/%d/%Y %H:%M"] }',
        'occurred_at = { template = "{DATE}T{TIME}", formats = ["%m/%d/%YT%H:%M"] }',
    ],
)
def test_date_and_time_columns_are_joined(tmp_path: Path, occurred_at: str) -> None:
    source = _two_columns(tmp_path, occurred_at)
    [item] = list(adapter_for("csv").fetch(source))
    # 21:04 PST is 05:04 UTC the next day.
    assert normalize(item, source).occurred_at == datetime(2026, 11, 29, 5, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("occurred_at", "says"),
    [
        (
            'occurred_at = { column = ["DATE", "TIME"], formats = ["%m/%d/%Y %H:%M"] }',
            r"column names one column; to read one value from several columns write columns",
        ),
        (
            'occurred_at = ["DATE", "TIME"]',
            r"a list here is of time tables tried in order; to join a date and a time",
        ),
        (
            'occurred_at = { template = "DATE TIME", formats = ["%m/%d/%Y %H:%M"] }',
            r"template 'DATE TIME' names no column in braces",
        ),
    ],
)
def test_a_misused_join_says_how_to_write_it(tmp_path: Path, occurred_at: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _two_columns(tmp_path, occurred_at)


def test_a_csv_source_checks_joined_columns_exist(tmp_path: Path) -> None:
    source = _two_columns(
        tmp_path, 'occurred_at = { columns = ["DATE", "TIME"], formats = ["%m/%d/%Y %H:%M"] }'
    )
    assert {"DATE", "TIME"} <= source.fields.columns()
