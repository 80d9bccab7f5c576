"""CAP 1.2 (OASIS Common Alerting Protocol) documents and their Atom index, public fields only.

One incident's current state is one CAP message: `Alert` while it was never changed,
`Update` after a change (referencing the first message), `Cancel` once it was removed from
the public feed (referencing it too, with no `info`: nothing about it is public any more).
Times carry an explicit `+00:00` because the 1.2 schema refuses "Z" and fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from lxml import etree

from townsquare.incidents.schemas import IncidentPublic
from townsquare.ingest.relayed import Relayed

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
GEORSS = "http://www.georss.org/georss"
CAP_MEDIA_TYPE = "application/cap+xml"
SEVERITY = {5: "Extreme", 4: "Severe", 3: "Moderate", 2: "Minor", 1: "Minor"}
CATEGORY_PREFIX = (
    ("fire.", "Fire"),
    ("rescue.", "Rescue"),
    ("safety.hazmat", "CBRNE"),
    ("safety.weather", "Met"),
    ("safety.", "Safety"),
    ("traffic.", "Transport"),
    ("crime.", "Security"),
    ("police.", "Security"),
    ("medical", "Health"),
)
CERTAINTY = {"dispatch": "Observed", "agency": "Observed", "resident": "Possible"}
AREA_RADIUS_KM = 0.2  # the public point stands for its ~200 m cell, not an exact place
HEADLINE_MAX = 140
"""Google Public Alerts: a headline longer than this is cut by consumers."""
EXPIRES_AFTER = timedelta(hours=6)
"""An active incident's message is current this long after its last change (it is
re-issued as an Update on every change, so a live incident never reads as expired)."""
INSTRUCTION = "Avoid the area if you can and follow the directions of responders on scene."
CLEARED = "This incident is over; no action is needed."
IPAWS_CODE = "IPAWSv1.0"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who sends, and where links point."""

    site_url: str

    @property
    def sender(self) -> str:
        """The CAP `sender`: unique to this deployment, without spaces or commas."""
        return f"townsquare@{urlsplit(self.site_url).hostname or 'localhost'}"

    @property
    def contact(self) -> str:
        """Where a reader of the alert can turn: the site's address."""
        return f"Townsquare, {self.site_url}/"


@dataclass(frozen=True, slots=True)
class Area:
    """A coarse circle a Cancel names (the withdrawn incident's district)."""

    lat: float
    lon: float
    radius_km: float


def cap_time(value: datetime) -> str:
    """A CAP 1.2 dateTime: seconds, explicit +00:00."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def identifier(incident_id: int, at: datetime) -> str:
    """The message identifier of an incident's state at `at`."""
    return f"townsquare-incident-{incident_id}-{int(at.timestamp())}"


def cap_category(code: str) -> str:
    """The CAP category of a taxonomy code."""
    for prefix, category in CATEGORY_PREFIX:
        if code == prefix.rstrip(".") or code.startswith(prefix):
            return category
    return "Other"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _head(origin: Origin, ident: str, sent: datetime, msg_type: str) -> etree._Element:
    alert = etree.Element(f"{{{CAP}}}alert", nsmap={None: CAP})  # type: ignore[dict-item]
    _sub(alert, "identifier", ident)
    _sub(alert, "sender", origin.sender)
    _sub(alert, "sent", cap_time(sent))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", msg_type)
    _sub(alert, "scope", "Public")
    _sub(alert, "code", IPAWS_CODE)  # follows the FEMA IPAWS profile of CAP 1.2
    return alert


def _first(origin: Origin, incident_id: int, published_at: datetime) -> str:
    return f"{origin.sender},{identifier(incident_id, published_at)},{cap_time(published_at)}"


def headline_of(text: str) -> str:
    """At most HEADLINE_MAX characters (the Google profile's limit), cut at a word."""
    if len(text) <= HEADLINE_MAX:
        return text
    return text[: HEADLINE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.;—-") + "…"


def expires_of(incident: IncidentPublic, relayed: Relayed | None) -> datetime:
    """When this message stops being current: the alert's own expiry, the clear time, or
    EXPIRES_AFTER past the last change while the incident is active."""
    if relayed is not None and relayed.expires is not None:
        return max(relayed.expires, incident.updated_at)
    if incident.closed_at is not None:
        return max(incident.closed_at, incident.updated_at)
    return incident.updated_at + EXPIRES_AFTER


def cap_alert(incident: IncidentPublic, origin: Origin, relayed: Relayed | None = None) -> bytes:
    """The CAP message for a public incident: Alert, or Update after a change."""
    changed = incident.updated_at > incident.published_at
    alert = _head(
        origin,
        identifier(incident.id, incident.updated_at),
        incident.updated_at,
        "Update" if changed else "Alert",
    )
    if changed:
        _sub(alert, "references", _first(origin, incident.id, incident.published_at))
    said = relayed or Relayed()
    active = incident.status == "active"
    info = _sub(alert, "info")
    _sub(info, "language", "en-US")
    _sub(info, "category", cap_category(incident.category))
    _sub(info, "event", said.event or incident.category_label)
    _sub(info, "responseType", "Monitor" if active else "AllClear")
    _sub(info, "urgency", "Immediate" if active else "Past")
    _sub(info, "severity", SEVERITY.get(incident.severity, "Unknown"))
    _sub(info, "certainty", CERTAINTY.get(incident.origin, "Possible"))
    _event_codes(info, incident.category, said.same_code)
    _sub(info, "onset", cap_time(incident.occurred_at))
    _sub(info, "expires", cap_time(expires_of(incident, relayed)))
    _sub(info, "senderName", incident.agency or "Townsquare")
    place = f" — {incident.address_block}" if incident.address_block else ""
    headline = headline_of(said.headline or f"{incident.title}{place}")
    _sub(info, "headline", headline)
    summary = said.description or (
        f"{incident.category_label}. {incident.summary} Source: {incident.provenance}."
    )
    if summary.strip() == headline:
        summary = f"{summary.strip()} Source: {incident.provenance}."
    _sub(info, "description", summary.strip())
    _sub(info, "instruction", said.instruction or (INSTRUCTION if active else CLEARED))
    _sub(info, "web", f"{origin.site_url}/incidents/{incident.id}")
    _sub(info, "contact", origin.contact)
    area = _sub(info, "area")
    _sub(area, "areaDesc", incident.address_block or f"Near {incident.lat:.3f}, {incident.lon:.3f}")
    _sub(area, "circle", f"{incident.lat},{incident.lon} {AREA_RADIUS_KM}")
    return etree.tostring(alert, xml_declaration=True, encoding="utf-8")


def _event_codes(info: etree._Element, category: str, same: str) -> None:
    codes = [("SAME", same)] if same else []
    for name, value in [*codes, ("townsquare-category", category)]:
        code = _sub(info, "eventCode")
        _sub(code, "valueName", name)
        _sub(code, "value", value)


def cap_cancel(
    incident_id: int, published_at: datetime, at: datetime, origin: Origin, area: Area
) -> bytes:
    """The Cancel for an incident taken out of the public feed: ids, times and a coarse area.

    Consumers need an `info` (the Google and IPAWS profiles require one); it says only that
    the alert is withdrawn, over the incident's coarse district (H3 resolution 5).
    """
    alert = _head(origin, identifier(incident_id, at) + "-cancel", at, "Cancel")
    _sub(alert, "note", "Withdrawn: this incident is no longer in the public feed.")
    _sub(alert, "references", _first(origin, incident_id, published_at))
    info = _sub(alert, "info")
    _sub(info, "language", "en-US")
    _sub(info, "category", "Other")
    _sub(info, "event", "Withdrawn incident")
    _sub(info, "responseType", "AllClear")
    _sub(info, "urgency", "Past")
    _sub(info, "severity", "Minor")
    _sub(info, "certainty", "Observed")
    _event_codes(info, "withdrawn", "")
    _sub(info, "expires", cap_time(at))
    _sub(info, "senderName", "Townsquare")
    _sub(info, "headline", "Withdrawn: this incident is no longer in the public feed")
    _sub(
        info,
        "description",
        "The incident this alert referred to was taken out of the public feed. "
        "Nothing more about it is public.",
    )
    _sub(info, "instruction", "No action is needed; disregard the earlier alert.")
    _sub(info, "web", f"{origin.site_url}/")
    _sub(info, "contact", origin.contact)
    block = _sub(info, "area")
    _sub(block, "areaDesc", "The district of the withdrawn incident")
    _sub(block, "circle", f"{area.lat:.3f},{area.lon:.3f} {area.radius_km}")
    return etree.tostring(alert, xml_declaration=True, encoding="utf-8")


def cap_index(
    incidents: list[IncidentPublic], *, title: str, self_url: str, origin: Origin, now: datetime
) -> bytes:
    """An Atom feed with one entry per CAP message, each linking to the CAP document and
    carrying its point as GeoRSS ("lat lon"), as GeoRSS readers (Home Assistant) expect."""
    nsmap = {None: ATOM, "georss": GEORSS}
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=nsmap)  # type: ignore[arg-type]

    def text(parent: etree._Element, tag: str, value: str) -> None:
        etree.SubElement(parent, f"{{{ATOM}}}{tag}").text = value

    text(feed, "id", self_url)
    text(feed, "title", title)
    newest = max((i.updated_at for i in incidents), default=now)
    text(feed, "updated", atom_time(newest))
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    text(author, "name", "Townsquare")
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    for incident in incidents:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        cap_url = f"{origin.site_url}/feeds/cap/{incident.id}.xml"
        text(entry, "id", f"urn:townsquare:cap:{identifier(incident.id, incident.updated_at)}")
        place = f" — {incident.address_block}" if incident.address_block else ""
        text(entry, "title", f"{incident.title}{place}")
        text(entry, "updated", atom_time(incident.updated_at))
        etree.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", type=CAP_MEDIA_TYPE, href=cap_url
        )
        etree.SubElement(
            entry, f"{{{ATOM}}}category", term=incident.category, label=incident.category_label
        )
        text(entry, "summary", f"{incident.category_label}, severity {SEVERITY[incident.severity]}")
        point = etree.SubElement(entry, f"{{{GEORSS}}}point")
        point.text = f"{incident.lat} {incident.lon}"  # GeoRSS order is "lat lon"
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


def atom_time(value: datetime) -> str:
    """An RFC 3339 time in UTC with "Z", as Atom readers expect."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
