"""Generic JSON documents: a list of records at a dotted path, each flattened to columns.

`[json] records = "data.items"` names where the list is ("" for a document that is the
list; "features" for GeoJSON). Nested values become dotted columns ("location.lat",
"geometry.coordinates.0"), so the mapping's `fields` read any shape: micro-degree integers
with `scale`, "(lat, lon)" strings with `location`, epoch times with `epoch_s`/`epoch_ms`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar

from townsquare.errors import SourceError
from townsquare.ingest.columnar.tables import Page, records_page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import KindOptions, RawItem
from townsquare.ingest.sources.base import record as read_record
from townsquare.ingest.sources.http import Fetched, at_path, flatten, parse_json, read_location


class JsonOptions(KindOptions):
    """A generic JSON document (the `[json]` table)."""

    records: str = ""
    """Dotted path to the list of records ("data.items"); empty: the document is the list."""


class JsonSource:
    """The records of one JSON document (file or URL)."""

    kind: ClassVar[str] = "json"
    Options: ClassVar[type[JsonOptions]] = JsonOptions
    options_table: ClassVar[str] = "json"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """Every record at `[json] records` of the document at `location`."""
        return self.parse(config, read_location(config).content)

    def pages(self, config: SourceConfig) -> Iterator[Page | Iterator[RawItem]]:
        """The document's records as columns, or as items where they differ in shape."""
        path = config.kind_options(JsonOptions).records
        document = parse_json(read_location(config))
        found = at_path(document, path)
        page = records_page(found, _position) if isinstance(found, list) else None
        yield page if page is not None else records(document, path)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The records of a JSON body (also what the push endpoint calls)."""
        path = config.kind_options(JsonOptions).records
        return records(parse_json(Fetched(config.location, body, "")), path)


def _position(index: int) -> str:
    return f"record {index + 1}"


def records(document: Any, path: str) -> Iterator[RawItem]:
    """One item per element of the list at `path`, flattened."""
    found = at_path(document, path)
    if isinstance(found, dict):
        found = [found]  # a single record pushed on its own
    if not isinstance(found, list):
        raise SourceError(f"expected a list of records at {path or 'the top level'!r}")
    for number, record in enumerate(found, start=1):
        if isinstance(record, dict):
            yield read_record(f"record {number}", partial(flatten, record))
        else:
            yield RawItem(f"record {number}", {"#record": str(record)}, "a record is not an object")
