"""The `push` kind: nothing to fetch; the agency POSTs records in its `[push] format`.

Pushed bodies are read by the adapter of that format (`parse`), through
`townsquare.ingest.pushed.receive`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from townsquare.errors import SourceError
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.registry import adapter_for


class PushSource:
    """A source that only receives: fetching it is an error, parsing defers to its format."""

    kind: ClassVar[str] = "push"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """Refused: records of a push source arrive at /api/v1/sources/{slug}/records."""
        raise SourceError(
            f"{config.slug}: a push source receives records; there is nothing to fetch"
        )

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The records of a pushed body, read by the adapter of `[push] format`."""
        fmt = config.push.format if config.push else "json"
        reader = adapter_for(fmt)
        parse = getattr(reader, "parse", None)
        if fmt == self.kind or not callable(parse):
            raise SourceError(f"records in format {fmt!r} cannot be pushed")
        items: Iterator[RawItem] = parse(config, body)
        return items
