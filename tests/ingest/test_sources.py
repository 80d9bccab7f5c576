"""Adapters: the CSV reader on files and over HTTP, the registry, the fake."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from townsquare.errors import ConfigError, SourceError
from townsquare.ingest.config import SourceConfig, bundled_mappings, load_source_config
from townsquare.ingest.normalize import ROW_FIELD, NormalizeError, normalize
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.csv import CsvSource
from townsquare.ingest.sources.fake import FakeSource
from townsquare.ingest.sources.registry import adapter_for, known_kinds

SEATTLE_HEADER = "Address,Type,Datetime,Latitude,Longitude,Report Location,Incident Number"


def _config(location: Path | str, **csv: Any) -> SourceConfig:
    base = load_source_config(bundled_mappings()["seattle_fire_911"])
    data = base.model_dump()
    data["location"] = str(location)
    data["csv"] = {**data["csv"], **csv}
    return SourceConfig.model_validate(data)


def test_registry_finds_the_builtin_csv_adapter_through_entry_points() -> None:
    assert "csv" in known_kinds()
    assert isinstance(adapter_for("csv"), CsvSource)


def test_registry_lists_known_kinds_for_an_unknown_one() -> None:
    with pytest.raises(ConfigError, match=r"unknown source kind 'gopher'; known kinds: .*csv"):
        adapter_for("gopher")


def test_csv_yields_header_to_cell_unchanged_with_line_positions() -> None:
    config = load_source_config(bundled_mappings()["seattle_fire_911"])
    items = list(CsvSource().fetch(config))
    assert len(items) == 1500
    assert items[0].position == "line 2"
    assert items[-1].position == "line 1501"
    hour_24 = next(i for i in items if i.payload["Incident Number"] == "F110098817")
    assert hour_24.payload == {
        "Address": "Nb I5 At Mercer",
        "Type": "Motor Vehicle Accident Freeway",
        "Datetime": " 2011-10-24T24:22:00+0000",  # leading space kept: the payload is raw
        "Latitude": "47.620184",
        "Longitude": "-122.328213",
        "Report Location": "",
        "Incident Number": "F110098817",
    }
    assert all(item.defect is None for item in items)


def test_ragged_rows_are_yielded_with_a_defect_and_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        f"{SEATTLE_HEADER}\n"
        "1st Av / Pike St,Motor Vehicle Accident,11/09/2011 10:04:00 PM +0000,47.6,-122.3,,F1\n"
        "1200 Pine St, Apt 5,Motor Vehicle Accident,11/09/2011 10:05:00 PM +0000,47.6,-122.3,,F2\n"
        "\n"
        "short row,Motor Vehicle Accident\n",
        "utf-8",
    )
    config = _config(path)
    good, long, short = CsvSource().fetch(config)
    assert (good.position, good.defect) == ("line 2", None)
    assert long.position == "line 3"
    assert long.defect == "8 cells where there are 7 columns"
    assert long.payload["Address"] == "1200 Pine St"
    assert long.payload["#8"] == "F2"  # the surplus cell is kept, keyed by its position
    assert short.position == "line 5"  # the blank line 4 is no record
    assert short.defect == "2 cells where there are 7 columns"
    assert normalize(good, config).external_id == "F1"
    for item in (long, short):
        with pytest.raises(NormalizeError) as caught:
            normalize(item, config)
        assert caught.value.field == ROW_FIELD


def test_headerless_csv_names_cells_by_position(tmp_path: Path) -> None:
    path = tmp_path / "calls.tsv"
    path.write_text(
        "Nb I5 At Spring\tMotor Vehicle Accident Freeway\t11/09/2011 07:04:00 PM +0000"
        "\t47.607213\t-122.329728\t\tF110104079\n",
        "utf-8",
    )
    names = SEATTLE_HEADER.split(",")
    config = _config(path, header=False, columns=names, delimiter="\t")
    (item,) = CsvSource().fetch(config)
    assert item.position == "line 1"
    assert item.payload["Incident Number"] == "F110104079"
    assert normalize(item, config).original_type == "Motor Vehicle Accident Freeway"


def test_quoted_cell_spanning_lines_keeps_its_starting_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        f'{SEATTLE_HEADER}\n"Pine St\nnear the park",Motor Vehicle Accident,'
        "11/09/2011 10:04:00 PM +0000,47.6,-122.3,,F1\n"
        "Pike St,Motor Vehicle Accident,11/09/2011 10:04:00 PM +0000,47.6,-122.3,,F2\n",
        "utf-8",
    )
    first, second = CsvSource().fetch(_config(path))
    assert (first.position, first.payload["Address"]) == ("line 2", "Pine St\nnear the park")
    assert second.position == "line 4"


def test_unreadable_payloads_raise_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"absent\.csv"):
        list(CsvSource().fetch(_config(tmp_path / "absent.csv")))
    empty = tmp_path / "empty.csv"
    empty.write_text("", "utf-8")
    with pytest.raises(SourceError, match="expected a header line"):
        list(CsvSource().fetch(_config(empty)))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(SEATTLE_HEADER.encode() + b"\nCaf\xe9 St,x,y,1,2,,F1\n")
    with pytest.raises(SourceError, match="not utf-8"):
        list(CsvSource().fetch(_config(latin)))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real local HTTP server serving tmp_path."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=tmp_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()
    thread.join()


def test_csv_over_http_reads_the_same_records_as_from_disk(http_root: tuple[str, Path]) -> None:
    url, root = http_root
    sample = Path(load_source_config(bundled_mappings()["sf_fire_calls"]).location)
    (root / "calls.csv").write_bytes(sample.read_bytes())
    config = load_source_config(bundled_mappings()["sf_fire_calls"])
    remote = config.model_copy(update={"location": f"{url}/calls.csv"})
    assert list(CsvSource().fetch(remote)) == list(CsvSource().fetch(config))
    with pytest.raises(SourceError, match="404"):
        list(CsvSource().fetch(config.model_copy(update={"location": f"{url}/gone.csv"})))


def test_fake_source_yields_its_items_then_fails_if_told() -> None:
    config = load_source_config(bundled_mappings()["sf_fire_calls"])
    fake = FakeSource.from_payloads([{"a": "1"}, {"a": "2"}])
    assert [i.position for i in fake.fetch(config)] == ["item 1", "item 2"]
    failing = FakeSource([RawItem("item 1", {"a": "1"})], error=SourceError("feed down"))
    fetched = failing.fetch(config)
    assert next(fetched).payload == {"a": "1"}
    with pytest.raises(SourceError, match="feed down"):
        next(fetched)
    assert (fake.fetches, failing.fetches) == (1, 1)
