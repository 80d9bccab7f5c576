"""CAP 1.0/1.1/1.2 alerts as records, however they are carried (see capdoc).

Every alert becomes one record with the same columns whether it came whole or as an index
entry: "identifier", "sender", "sent", "msgType", "status", "references", "event",
"category", "urgency", "severity", "certainty", "headline", "description", "instruction",
"contact", "web", "areaDesc", "effective", "onset", "expires", "senderName", "same" (its
SAME event code), "point"
("lat, lon": a circle's centre or a polygon's mean vertex), "incident": the identifier of
the alert this one acts on (the earliest sent of its `references`), "refers": the
identifiers of all its references, and "level": our severity 1..5 from urgency, severity
and certainty (cap_events.level; empty when they say nothing usable).

With `external_id = "incident"`, `[lifecycle] version = "sent"`, `refers = "refers"`,
`expires = "expires"` and `status = "msgType"`, `closed_values = ["Cancel"]`, an Update
updates the incident of the alert it references and a Cancel closes the incidents of all the
alerts it references at its `sent` (ingest/refers.py), with or without an `info`; an alert
past its `expires` is closed at that time. Every whole alert is checked against its CAP version's
schema first: one that breaks it is quarantined with the schema's message and line, naming
the alert. A signature (ds:Signature) is accepted and not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import ClassVar
from xml.etree.ElementTree import Element

from lxml import etree

from townsquare.errors import SourceError
from townsquare.ingest.cap_events import level
from townsquare.ingest.capschema import schema_error
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem, record
from townsquare.ingest.sources.capdoc import alerts_of, is_alert, read
from townsquare.ingest.sources.http import get, read_location
from townsquare.ingest.sources.xmlfeed import (
    FeedOptions,
    circle_centre,
    columns,
    name,
    polygon_centre,
)

INFO_FIELDS = (
    "event",
    "category",
    "urgency",
    "severity",
    "certainty",
    "headline",
    "description",
    "instruction",
    "contact",
    "web",
    "effective",
    "onset",
    "expires",
    "senderName",
)
SCHEMA_FIELD = "alert"
"""The field a schema-invalid alert is quarantined under."""


class CapSource:
    """Alerts of a CAP document, a wrapper of alerts, or the CAP alerts an Atom index lists."""

    kind: ClassVar[str] = "cap"
    Options: ClassVar[type[FeedOptions]] = FeedOptions
    options_table: ClassVar[str] = "feed"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The alert(s) at `location`; index entries are fetched from their links."""
        return self.parse(config, read_location(config).content)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The alerts of one body, whatever wraps them."""
        where = config.location or config.slug
        options = config.kind_options(FeedOptions)
        for found in alerts_of(read(body, where), where)[: options.max_entries]:
            if found.alert is not None:
                yield alert_item(found.position, found.alert, found.twin)
                continue
            assert found.entry is not None
            link = entry_link(found.entry)
            if options.follow_links and link and config.is_url():
                linked = alerts_of(read(get(config, link).content, link), link)
                first = linked[0] if linked else None
                if first is None or first.alert is None:
                    raise SourceError(f"{link}: expected a CAP alert")
                yield alert_item(found.position, first.alert, first.twin)
            else:
                yield record(found.position, partial(index_columns, found.entry))


def alert_item(position: str, alert: Element, twin: etree._Element | None) -> RawItem:
    """The record of a whole alert; a defective one when it breaks its CAP schema."""
    item = record(position, partial(alert_columns, alert))
    if item.defect is not None or twin is None:
        return item
    error = schema_error(twin)
    if error is None:
        return item
    ident = item.payload.get("identifier") or "(no identifier)"
    return RawItem(position, item.payload, f"alert {ident!r}: {error}", SCHEMA_FIELD)


def entry_link(entry: Element) -> str | None:
    """The href of an index entry's link."""
    for child in entry:
        if name(child) == "link" and child.get("href"):
            return child.get("href")
    return None


def alert_columns(alert: Element) -> dict[str, str]:
    """A whole CAP alert as one record (its first info block: several are translations)."""
    if not is_alert(alert):
        raise SourceError(f"expected a CAP alert, found <{name(alert)}>")
    found = {k.removeprefix("cap:"): v for k, v in columns(alert).items() if "." not in k}
    info = next((c for c in alert if name(c) == "cap:info"), None)
    if info is not None:
        details = {k.removeprefix("cap:"): v for k, v in columns(info).items()}
        for key in INFO_FIELDS:
            found[key] = details.get(key, "")
        found["areaDesc"] = details.get("area.cap:areaDesc", "")
        _locate(found, details.get("area.cap:polygon", ""), details.get("area.cap:circle", ""))
        found["same"] = _same_code(info)
    found.pop("ds:Signature", None)
    return _acting_on(_levelled(found))


def _same_code(info: Element) -> str:
    """The info's SAME event code ("TOR" ...), if it gives one."""
    for code in (c for c in info if name(c) == "cap:eventCode"):
        pair = {name(part): (part.text or "").strip() for part in code}
        if pair.get("cap:valueName") == "SAME":
            return pair.get("cap:value", "")
    return ""


def index_columns(entry: Element) -> dict[str, str]:
    """An Atom index entry with cap: elements (the NWS index) as the same columns."""
    raw = columns(entry)
    found = {k.removeprefix("cap:"): v for k, v in raw.items() if k.startswith("cap:")}
    found["identifier"] = raw.get("id", "")
    found["sent"] = raw.get("updated") or raw.get("published", "")
    found["headline"] = raw.get("title", "")
    found.setdefault("description", raw.get("summary", ""))
    _locate(found, found.get("polygon", ""), found.get("circle", ""))
    return _acting_on(_levelled(found))


def _locate(found: dict[str, str], polygon: str, circle: str) -> None:
    point = (polygon_centre(polygon) if polygon else None) or (
        circle_centre(circle) if circle else None
    )
    if point:
        found["point"] = point


def _levelled(found: dict[str, str]) -> dict[str, str]:
    ours = level(found.get("urgency", ""), found.get("severity", ""), found.get("certainty", ""))
    found["level"] = "" if ours is None else str(ours)
    return found


def _acting_on(found: dict[str, str]) -> dict[str, str]:
    # references: "sender,identifier,sent sender,identifier,sent ..." - an Update or a Cancel
    # acts on all of them; the earliest sent is the original alert, which names the incident.
    target, refers = found.get("identifier", ""), ""
    if found.get("msgType") in {"Update", "Cancel"} and found.get("references"):
        earlier = [_reference(triple) for triple in found["references"].split()]
        named = [(sent, ident) for sent, ident in earlier if ident]
        if named:
            target = min(named, key=lambda pair: _instant(pair[0]))[1]  # ties: the first
            refers = " ".join(dict.fromkeys(ident for _, ident in named))
    found["incident"] = target
    found["refers"] = refers
    return found


def _reference(triple: str) -> tuple[str, str]:
    """(sent, identifier) of one "sender,identifier,sent" reference ("" where absent)."""
    parts = triple.split(",")
    return (parts[2] if len(parts) > 2 else "", parts[1] if len(parts) > 1 else "")


def _instant(sent: str) -> datetime:
    """A reference's sent time; one that does not parse sorts last, in the order given."""
    try:
        moment = datetime.fromisoformat(sent)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
