"""Atom and RSS feeds whose entries carry GeoRSS (or W3C geo) points.

Each `entry` (Atom) or `item` (RSS) becomes one record of flat columns: "id", "title",
"summary", "updated", "link@href", "category@term", "georss:point", "geo:lat" ... A GeoRSS
point is "lat lon" (latitude first, space-separated): it is also given as "point" = "lat, lon"
so `location = { column = "point" }` reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import ClassVar
from xml.etree.ElementTree import Element

from townsquare.errors import SourceError
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem, record
from townsquare.ingest.sources.http import read_location
from townsquare.ingest.sources.xmlfeed import (
    FeedOptions,
    columns,
    georss_point,
    name,
    parse_xml,
)


class AtomSource:
    """The entries of an Atom or RSS document (file or URL)."""

    kind: ClassVar[str] = "atom"
    Options: ClassVar[type[FeedOptions]] = FeedOptions
    options_table: ClassVar[str] = "feed"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """Every entry of the feed at `location`."""
        return self.parse(config, read_location(config).content)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The entries of one Atom/RSS body."""
        root = parse_xml(body, config.location or config.slug)
        limit = config.kind_options(FeedOptions).max_entries
        for number, entry in enumerate(entries(root)[:limit], start=1):
            yield record(f"entry {number}", partial(entry_columns, entry))


def entries(root: Element) -> list[Element]:
    """The entries of an Atom feed or the items of an RSS channel."""
    if name(root) == "feed":
        return [child for child in root if name(child) == "entry"]
    if name(root) == "rss":
        channel = next((c for c in root if name(c) == "channel"), None)
        return [c for c in channel if name(c) == "item"] if channel is not None else []
    uri, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    found = f"<{local}> in {uri}" if uri else f"<{local}> in no namespace"
    raise SourceError(
        f"expected an Atom feed (<feed> in http://www.w3.org/2005/Atom) or an RSS document "
        f"(<rss>), found {found}"
    )


def entry_columns(entry: Element) -> dict[str, str]:
    """One entry as columns, with "point" from GeoRSS or W3C geo when there is one."""
    found = columns(entry)
    point = georss_point(found.get("georss:point", ""))
    if point is None and found.get("geo:lat") and found.get("geo:long"):
        point = f"{found['geo:lat']}, {found['geo:long']}"
    if point is not None:
        found["point"] = point
    return found
