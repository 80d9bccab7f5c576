"""The columnar path of a fetch: pages an adapter reads as columns become normalized items.

An adapter that offers `pages(config)` yields each payload as a `tables.Page`, or as its
per-record items when it cannot be read as columns. Every item still carries its payload
(the store keeps it); a columnar one also carries its normalized record or error, which
`normalize.normalize` then returns instead of normalizing the item again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.ingest.columnar.records import Normalized
from townsquare.ingest.columnar.tables import Page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem

SLICE_ROWS = 50_000
"""Rows normalized together: distinct values are looked up once per slice."""


def fetch(adapter: Any, config: SourceConfig) -> Iterator[RawItem]:
    """The adapter's items, normalized page by page where it reads pages as columns."""
    pages = getattr(adapter, "pages", None)
    if pages is None:
        yield from adapter.fetch(config)
        return
    for page in pages(config):
        if isinstance(page, Page):
            yield from items(page, config)
        else:
            yield from page


def items(page: Page, config: SourceConfig) -> Iterator[RawItem]:
    """The page's items, each with its normalized record (or error) for `config`; a long
    page (a whole export) a slice at a time, so its payloads are not all held at once."""
    for start in range(0, page.rows, SLICE_ROWS):
        part = page.part(start, SLICE_ROWS)
        records = Normalized(part, config).records()
        payloads = part.table.to_pylist()
        position = part.position
        yield from [
            RawItem(position(index), payload, normalized=(config, record))
            for index, (payload, record) in enumerate(zip(payloads, records, strict=True))
        ]
