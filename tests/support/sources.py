"""Feeds for tests to ingest through the real path: a CSV and its source TOML, and planted
feeds of every kind (csv, json, atom, cap, eido, push) served as each kind is read."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.support.feeds import FeedServer, static
from tests.support.planted import Ledger, real_rows
from townsquare.ingest.config import SourceConfig, load_source_config

COLUMNS = ["Incident Number", "Type", "Datetime", "Address", "Latitude", "Longitude"]


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings, numbers and lists of them are valid TOML as JSON


def write_source(
    folder: Path,
    rows: Iterable[Mapping[str, str]],
    categories: Mapping[str, str],
    *,
    slug: str = "test-feed",
    columns: list[str] | None = None,
    policy: Mapping[str, Mapping[str, Any]] | None = None,
    loosen_reason: str | None = None,
) -> SourceConfig:
    """A CSV of `rows` and a source TOML reading it (ISO times, separate coordinates)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{slug}.csv"
    header = columns or COLUMNS
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f'slug = "{slug}"',
        'name = "Test feed"',
        'kind = "csv"',
        f"location = {json.dumps(str(data))}",
        'time_zone = "America/Los_Angeles"',
        "",
        "[agency]",
        'slug = "test-agency"',
        'name = "Test Fire Department"',
        'time_zone = "America/Los_Angeles"',
        "",
        "[fields]",
        'external_id = "Incident Number"',
        'call_type = "Type"',
        'address = "Address"',
        'latitude = "Latitude"',
        'longitude = "Longitude"',
        'occurred_at = { column = "Datetime", formats = ["iso8601"] }',
        "",
        "[categories]",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in categories.items()),
    ]
    if policy or loosen_reason:
        lines += ["", "[policy]"]
        if loosen_reason:
            lines.append(f"loosen_reason = {json.dumps(loosen_reason)}")
        for section, values in (policy or {}).items():
            lines.append(f"[policy.{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    path = folder / f"{slug}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_source_config(path)


# --- planted feeds of every kind -----------------------------------------------------------

HOME = (47.6100, -122.3300)
"""Where the alerted calls are, inside the footage test jurisdiction and a watch area."""
ALERTED = 3
"""Rows of each kind at HOME, a few minutes old and of an alertable category."""
PUBLIC_CODES = ("assist", "safety.hazard", "police.other", "traffic.collision")


@dataclass(frozen=True)
class Call:
    """One planted dispatch call, before it is written in its kind's format."""

    id: str
    call_type: str
    address: str
    unit: str
    narrative: str
    lat: str
    lon: str
    when: str


@dataclass
class PlantedFeed:
    """The calls of one kind and the source reading them."""

    kind: str
    calls: list[Call]
    config: SourceConfig
    sensitive_ids: set[str] = field(default_factory=set)


def planted_calls(
    ledger: Ledger,
    kind: str,
    count: int,
    now: datetime,
    *,
    unit: bool,
    narrative: str = "unmapped narrative",
) -> tuple[list[Call], dict[str, str], set[str]]:
    """`count` calls, every mapped text field planted; their categories and sensitive ids.

    Of the planted call types 4 in 6 map to a public category, 1 to a sensitive one
    (withheld) and 1 is left unmapped (published as "other", the type named in its reasons).
    """
    rng = random.Random(f"{ledger.seed}-{kind}")
    real = real_rows()
    categories: dict[str, str] = {}
    sensitive: set[str] = set()
    calls = []
    for i in range(count):
        base = rng.choice(real)
        ident = f"{kind[:2].upper()}{i:06d}"
        call_type = ledger.text(kind, "call_type", i)
        lat, lon = base["lat"], base["lon"]
        when = now - timedelta(minutes=rng.randrange(70, 3 * 24 * 60))
        if i < ALERTED:
            categories[call_type] = "fire.structure"
            lat, lon = f"{HOME[0] + 0.0004 * i:.6f}", f"{HOME[1]:.6f}"
            when = now - timedelta(minutes=5)
        elif i % 6 < 4:
            categories[call_type] = PUBLIC_CODES[i % 6]
        elif i % 6 == 4:
            categories[call_type] = "sensitive.domestic"
            sensitive.add(ident)
        address = ledger.text(kind, "address", i)
        calls.append(
            Call(
                ident,
                call_type,
                address,
                ledger.text(kind, "unit", i) if unit else "",
                ledger.text(kind, narrative, i),
                lat,
                lon,
                when.isoformat(timespec="seconds"),
            )
        )
    return calls, categories, sensitive


def kind_config(
    kind: str, location: str, fields: dict[str, Any], categories: dict[str, str], **extra: Any
) -> SourceConfig:
    """A source of `kind` of the planted agency (`extra` sets further tables)."""
    data: dict[str, Any] = {
        "slug": f"planted-{kind}",
        "name": f"Planted {kind} feed",
        "kind": kind,
        "location": location,
        "agency": {"slug": "planted", "name": "Planted Fire", "time_zone": "America/Los_Angeles"},
        "fields": fields,
        "categories": categories or {"Aid Response": "medical"},
        **extra,
    }
    return SourceConfig.model_validate(data)


FLAT_FIELDS = {
    "external_id": "id",
    "call_type": "type",
    "address": "address",
    "unit": "unit",
    "latitude": "lat",
    "longitude": "lon",
    "occurred_at": {"column": "when", "formats": ["iso8601"]},
}


def csv_feed(ledger: Ledger, folder: Path, count: int, now: datetime) -> PlantedFeed:
    """A CSV file: call type, address and unit planted; a narrative column not mapped."""
    calls, categories, sensitive = planted_calls(ledger, "csv", count, now, unit=True)
    path = folder / "planted.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "type", "address", "unit", "narrative", "lat", "lon", "when"])
        writer.writerows(
            [c.id, c.call_type, c.address, c.unit, c.narrative, c.lat, c.lon, c.when] for c in calls
        )
    config = kind_config("csv", str(path), FLAT_FIELDS, categories)
    return PlantedFeed("csv", calls, config, sensitive)


def json_feed(ledger: Ledger, server: FeedServer, count: int, now: datetime) -> PlantedFeed:
    """A nested JSON document over HTTP."""
    calls, categories, sensitive = planted_calls(ledger, "json", count, now, unit=True)
    records = [
        {
            "call": {"id": c.id, "nature": {"text": c.call_type}, "unit": c.unit},
            "when": c.when,
            "where": {"street": c.address, "lat": c.lat, "lon": c.lon},
            "caller": {"notes": c.narrative},
        }
        for c in calls
    ]
    body = json.dumps({"data": {"calls": records}}).encode()
    server.routes["/calls.json"] = static(body, "application/json")
    fields = {
        "external_id": "call.id",
        "call_type": "call.nature.text",
        "address": "where.street",
        "unit": "call.unit",
        "latitude": "where.lat",
        "longitude": "where.lon",
        "occurred_at": {"column": "when", "formats": ["iso8601"]},
    }
    config = kind_config(
        "json", f"{server.url}/calls.json", fields, categories, json={"records": "data.calls"}
    )
    return PlantedFeed("json", calls, config, sensitive)


POINT_FIELDS = {"location": {"column": "point", "order": "lat_lon"}}


def atom_feed(ledger: Ledger, server: FeedServer, count: int, now: datetime) -> PlantedFeed:
    """An Atom feed with GeoRSS points over HTTP: title, summary planted; content not mapped."""
    calls, categories, sensitive = planted_calls(ledger, "atom", count, now, unit=False)
    entries = "".join(
        f"<entry><id>{c.id}</id><title>{escape(c.call_type)}</title>"
        f"<updated>{c.when}</updated><summary>{escape(c.address)}</summary>"
        f"<content>{escape(c.narrative)}</content>"
        f"<georss:point>{c.lat} {c.lon}</georss:point></entry>"
        for c in calls
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:georss="http://www.georss.org/georss"><title>Dispatch</title><id>urn:x</id>'
        f"<updated>{now.isoformat()}</updated>{entries}</feed>"
    ).encode()
    server.routes["/dispatch.atom"] = static(body, "application/atom+xml")
    fields = {
        "external_id": "id",
        "call_type": "title",
        "address": "summary",
        **POINT_FIELDS,
        "occurred_at": {"column": "updated", "formats": ["iso8601"]},
    }
    config = kind_config(
        "atom", f"{server.url}/dispatch.atom", fields, categories, feed={"max_entries": count}
    )
    return PlantedFeed("atom", calls, config, sensitive)


def _cap_alert(c: Call) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{c.id}</identifier><sender>cad@planted.example</sender>"
        f"<sent>{c.when}</sent><status>Actual</status><msgType>Alert</msgType>"
        "<scope>Public</scope><info><category>Safety</category>"
        f"<event>{escape(c.call_type)}</event><urgency>Immediate</urgency>"
        "<severity>Moderate</severity><certainty>Observed</certainty>"
        f"<headline>{escape(c.narrative)}</headline><area>"
        f"<areaDesc>{escape(c.address)}</areaDesc><circle>{c.lat},{c.lon} 0.1</circle>"
        "</area></info></alert>"
    ).encode()


def _cap_entry(c: Call, url: str | None) -> str:
    if url is not None:  # a whole alert, fetched from the link
        return f'<entry><id>{c.id}</id><link href="{url}/cap/{c.id}.xml"/></entry>'
    lat, lon = float(c.lat), float(c.lon)
    ring = f"{lat},{lon} {lat + 0.001},{lon} {lat},{lon + 0.001} {lat},{lon}"
    return (  # the alert's elements in the index entry itself, as the NWS index has them
        f"<entry><id>{c.id}</id><updated>{c.when}</updated><title>{escape(c.narrative)}</title>"
        f"<cap:event>{escape(c.call_type)}</cap:event><cap:msgType>Alert</cap:msgType>"
        f"<cap:areaDesc>{escape(c.address)}</cap:areaDesc><cap:polygon>{ring}</cap:polygon>"
        "</entry>"
    )


CAP_LINKED = 100
"""CAP alerts fetched from their index link (the rest are read from the index entries)."""


def cap_feed(ledger: Ledger, server: FeedServer, count: int, now: datetime) -> PlantedFeed:
    """An Atom index of CAP 1.2 alerts, the first fetched from their links, the others read
    from the entries: event and areaDesc planted, the headline not mapped."""
    calls, categories, sensitive = planted_calls(
        ledger, "cap", count, now, unit=False, narrative="unmapped headline"
    )
    for c in calls[:CAP_LINKED]:
        server.routes[f"/cap/{c.id}.xml"] = static(_cap_alert(c), "application/cap+xml")
    entries = "".join(
        _cap_entry(c, server.url if n < CAP_LINKED else None) for n, c in enumerate(calls)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:cap="urn:oasis:names:tc:emergency:cap:1.1">'
        f"<title>CAP</title><id>urn:cap</id><updated>{now.isoformat()}</updated>{entries}</feed>"
    ).encode()
    server.routes["/cap.atom"] = static(body, "application/atom+xml")
    fields = {
        "external_id": "identifier",
        "call_type": "event",
        "address": "areaDesc",
        **POINT_FIELDS,
        "occurred_at": {"column": "sent", "formats": ["iso8601"]},
    }
    config = kind_config(
        "cap", f"{server.url}/cap.atom", fields, categories, feed={"max_entries": count}
    )
    return PlantedFeed("cap", calls, config, sensitive)


def _eido(c: Call) -> dict[str, Any]:
    pidf = (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:cad@planted.example">'
        f'<gml:pos xmlns:gml="http://www.opengis.net/gml">{c.lat} {c.lon}</gml:pos>'
        f"<civicAddress><RD>{escape(c.address)}</RD><A3>Seattle</A3></civicAddress></presence>"
    )
    return {
        "$id": c.id,
        "lastUpdateTimeStamp": c.when,
        "incidentComponent": [
            {
                "$id": c.id,
                "incidentTypeCommonRegistryText": c.call_type,
                "incidentStatusCommonRegistryText": "Dispatched",
                "incidentCreationTimestamp": c.when,
                "locationReference": {"$ref": f"loc-{c.id}"},
            }
        ],
        "locationComponent": [{"$id": f"loc-{c.id}", "locationByValue": pidf}],
        "personComponent": [{"personNameText": c.narrative}],
        "notesComponent": [{"noteText": c.narrative}],
    }


def eido_feed(ledger: Ledger, server: FeedServer, count: int, now: datetime) -> PlantedFeed:
    """NENA EIDOs over HTTP: incident type and the civic street (RD) planted; person and
    notes components (dropped on receipt) planted too."""
    calls, categories, sensitive = planted_calls(
        ledger, "eido", count, now, unit=False, narrative="dropped components"
    )
    body = json.dumps([_eido(c) for c in calls]).encode()
    server.routes["/eido.json"] = static(body, "application/json")
    fields = {
        "external_id": "incident.$id",
        "call_type": "incident.incidentTypeCommonRegistryText",
        "address": "location.address",
        "location": {"column": "location.point", "order": "lat_lon"},
        "occurred_at": {"column": "incident.incidentCreationTimestamp", "formats": ["iso8601"]},
    }
    config = kind_config("eido", f"{server.url}/eido.json", fields, categories)
    return PlantedFeed("eido", calls, config, sensitive)


def push_feed(ledger: Ledger, count: int, now: datetime) -> PlantedFeed:
    """A push source taking flat JSON records (POSTed by the test, signed)."""
    calls, categories, sensitive = planted_calls(ledger, "push", count, now, unit=True)
    push = {"format": "json", "key_env": "PLANTED_PUSH_KEY", "secret_env": "PLANTED_PUSH_SECRET"}
    config = kind_config("push", "", FLAT_FIELDS, categories, push=push)
    return PlantedFeed("push", calls, config, sensitive)


def push_bodies(feed: PlantedFeed, batch: int) -> list[bytes]:
    """The push feed's records as JSON bodies of `batch` records."""
    records = [
        {
            "id": c.id,
            "type": c.call_type,
            "address": c.address,
            "unit": c.unit,
            "narrative": c.narrative,
            "lat": c.lat,
            "lon": c.lon,
            "when": c.when,
        }
        for c in feed.calls
    ]
    return [json.dumps(records[i : i + batch]).encode() for i in range(0, len(records), batch)]
