"""An adapter that yields the items it was given: for tests of the core, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem


class FakeSource:
    """Yields `items` in order, then raises `error` if one is given (a feed failing mid-way)."""

    kind: ClassVar[str] = "fake"

    def __init__(self, items: Iterable[RawItem] = (), error: Exception | None = None) -> None:
        self.items = list(items)
        self.error = error
        self.fetches = 0

    @classmethod
    def from_payloads(cls, payloads: Iterable[Mapping[str, str]]) -> FakeSource:
        """A fake yielding one item per payload, positioned "item 1", "item 2", ..."""
        return cls(RawItem(f"item {n}", dict(p)) for n, p in enumerate(payloads, start=1))

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The given items, whatever the config says."""
        self.fetches += 1
        yield from self.items
        if self.error is not None:
            raise self.error
