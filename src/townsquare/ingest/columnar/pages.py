"""The columnar path of a fetch: pages an adapter reads as columns become normalized items.

An adapter that offers `pages(config)` yields each payload as a `tables.Page`, or as its
per-record items when it cannot be read as columns. Every item still carries its payload
(the store keeps it); a columnar one also carries its normalized record or error, which
`normalize.normalize` then returns instead of normalizing the item again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from townsquare.ingest.columnar.records import Normalized
from townsquare.ingest.columnar.tables import Page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem


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


def items(page: Page, config: SourceConfig) -> Iterable[RawItem]:
    """The page's items, each with its normalized record (or error) for `config`."""
    records = Normalized(page, config).records()
    payloads = page.table.to_pylist()
    position = page.position
    return [
        RawItem(position(index), payload, normalized=(config, record))
        for index, (payload, record) in enumerate(zip(payloads, records, strict=True))
    ]
