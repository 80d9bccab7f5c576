"""CAP 1.0/1.1/1.2 alerts, one document or an Atom index of them, as records.

Every alert becomes one record with the same columns whether it came whole or as an index
entry: "identifier", "sender", "sent", "msgType", "status", "references", "event",
"category", "urgency", "severity", "certainty", "headline", "areaDesc", "effective",
"expires", "point" ("lat, lon": a circle's centre or a polygon's mean vertex) and
"incident": the identifier of the alert this one acts on. An Update or a Cancel names the
first alert in its `references`, so with `external_id = "incident"`, `[lifecycle] version =
"sent"` and `status = "msgType"`, `closed_values = ["Cancel"]` it updates or closes that
incident. A signature (ds:Signature) is accepted and not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import ClassVar
from xml.etree.ElementTree import Element

from townsquare.errors import SourceError
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.atom import entries
from townsquare.ingest.sources.base import RawItem, record
from townsquare.ingest.sources.http import get, read_location
from townsquare.ingest.sources.xmlfeed import (
    FeedOptions,
    circle_centre,
    columns,
    name,
    parse_xml,
    polygon_centre,
)

INFO_FIELDS = (
    "event",
    "category",
    "urgency",
    "severity",
    "certainty",
    "headline",
    "effective",
    "onset",
    "expires",
    "senderName",
)


class CapSource:
    """Alerts of a CAP document, or of the CAP alerts an Atom index lists."""

    kind: ClassVar[str] = "cap"
    Options: ClassVar[type[FeedOptions]] = FeedOptions
    options_table: ClassVar[str] = "feed"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The alert(s) at `location`; index entries are fetched from their links."""
        return self.parse(config, read_location(config).content)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The alerts of one body: a CAP alert, or an Atom index of alerts."""
        where = config.location or config.slug
        root = parse_xml(body, where)
        if name(root) == "cap:alert":
            yield record("alert", partial(alert_columns, root))
            return
        options = config.kind_options(FeedOptions)
        for number, entry in enumerate(entries(root)[: options.max_entries], start=1):
            link = entry_link(entry)
            if options.follow_links and link and config.is_url():
                fetched = get(config, link)
                alert = parse_xml(fetched.content, link)
                yield record(f"entry {number}", partial(alert_columns, alert))
            else:
                yield record(f"entry {number}", partial(index_columns, entry))


def entry_link(entry: Element) -> str | None:
    """The href of an index entry's link."""
    for child in entry:
        if name(child) == "link" and child.get("href"):
            return child.get("href")
    return None


def alert_columns(alert: Element) -> dict[str, str]:
    """A whole CAP alert as one record (its first info block: several are translations)."""
    if name(alert) != "cap:alert":
        raise SourceError(f"expected a CAP alert, found <{name(alert)}>")
    found = {k.removeprefix("cap:"): v for k, v in columns(alert).items() if "." not in k}
    info = next((c for c in alert if name(c) == "cap:info"), None)
    if info is not None:
        details = {k.removeprefix("cap:"): v for k, v in columns(info).items()}
        for key in INFO_FIELDS:
            found[key] = details.get(key, "")
        found["areaDesc"] = details.get("area.cap:areaDesc", "")
        polygon, circle = details.get("area.cap:polygon", ""), details.get("area.cap:circle", "")
        point = polygon_centre(polygon) if polygon else circle_centre(circle)
        if point:
            found["point"] = point
    found.pop("ds:Signature", None)
    return _acting_on(found)


def index_columns(entry: Element) -> dict[str, str]:
    """An Atom index entry with cap: elements (the NWS index) as the same columns."""
    raw = columns(entry)
    found = {k.removeprefix("cap:"): v for k, v in raw.items() if k.startswith("cap:")}
    found["identifier"] = raw.get("id", "")
    found["sent"] = raw.get("updated") or raw.get("published", "")
    found["headline"] = raw.get("title", "")
    point = polygon_centre(found.get("polygon", ""))
    if point:
        found["point"] = point
    return _acting_on(found)


def _acting_on(found: dict[str, str]) -> dict[str, str]:
    # references: "sender,identifier,sent sender,identifier,sent ..." - the first is the
    # original alert, which an Update or a Cancel acts on.
    target = found.get("identifier", "")
    if found.get("msgType") in {"Update", "Cancel"} and found.get("references"):
        first = found["references"].split()[0].split(",")
        if len(first) >= 2 and first[1]:
            target = first[1]
    found["incident"] = target
    return found
