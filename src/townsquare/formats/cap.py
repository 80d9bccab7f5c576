"""CAP 1.2 (OASIS Common Alerting Protocol) documents and their Atom index, public fields only.

One incident's current state is one CAP message: `Alert` while it was never changed,
`Update` after a change (referencing the first message), `Cancel` once it was removed from
the public feed (referencing it too, with no `info`: nothing about it is public any more).
Times carry an explicit `+00:00` because the 1.2 schema refuses "Z" and fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from lxml import etree

from townsquare.incidents.schemas import IncidentPublic

CAP = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
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


@dataclass(frozen=True, slots=True)
class Origin:
    """Who sends, and where links point."""

    site_url: str

    @property
    def sender(self) -> str:
        """The CAP `sender`: unique to this deployment, without spaces or commas."""
        return f"townsquare@{urlsplit(self.site_url).hostname or 'localhost'}"


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
    return alert


def _first(origin: Origin, incident_id: int, published_at: datetime) -> str:
    return f"{origin.sender},{identifier(incident_id, published_at)},{cap_time(published_at)}"


def cap_alert(incident: IncidentPublic, origin: Origin) -> bytes:
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
    info = _sub(alert, "info")
    _sub(info, "language", "en-US")
    _sub(info, "category", cap_category(incident.category))
    _sub(info, "event", incident.category_label)
    _sub(info, "responseType", "Monitor")
    _sub(info, "urgency", "Immediate" if incident.status == "active" else "Past")
    _sub(info, "severity", SEVERITY.get(incident.severity, "Unknown"))
    _sub(info, "certainty", CERTAINTY.get(incident.origin, "Unknown"))
    _sub(info, "onset", cap_time(incident.occurred_at))
    _sub(info, "senderName", incident.agency or "Townsquare")
    place = f" — {incident.address_block}" if incident.address_block else ""
    _sub(info, "headline", f"{incident.title}{place}"[:160])
    summary = f"{incident.category_label}. {incident.summary} Source: {incident.provenance}."
    _sub(info, "description", summary.strip())
    _sub(info, "web", f"{origin.site_url}/incidents/{incident.id}")
    area = _sub(info, "area")
    _sub(area, "areaDesc", incident.address_block or f"Near {incident.lat:.3f}, {incident.lon:.3f}")
    _sub(area, "circle", f"{incident.lat},{incident.lon} {AREA_RADIUS_KM}")
    return etree.tostring(alert, xml_declaration=True, encoding="utf-8")


def cap_cancel(incident_id: int, published_at: datetime, at: datetime, origin: Origin) -> bytes:
    """The Cancel for an incident taken out of the public feed: ids and times only."""
    alert = _head(origin, identifier(incident_id, at) + "-cancel", at, "Cancel")
    _sub(alert, "note", "Withdrawn: this incident is no longer in the public feed.")
    _sub(alert, "references", _first(origin, incident_id, published_at))
    return etree.tostring(alert, xml_declaration=True, encoding="utf-8")


def cap_index(
    incidents: list[IncidentPublic], *, title: str, self_url: str, origin: Origin, now: datetime
) -> bytes:
    """An Atom feed with one entry per CAP message, each linking to the CAP document."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]

    def text(parent: etree._Element, tag: str, value: str) -> None:
        etree.SubElement(parent, f"{{{ATOM}}}{tag}").text = value

    text(feed, "id", self_url)
    text(feed, "title", title)
    newest = max((i.updated_at for i in incidents), default=now)
    text(feed, "updated", newest.astimezone(UTC).isoformat().replace("+00:00", "Z"))
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    text(author, "name", "Townsquare")
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    for incident in incidents:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        cap_url = f"{origin.site_url}/feeds/cap/{incident.id}.xml"
        text(entry, "id", f"urn:townsquare:cap:{identifier(incident.id, incident.updated_at)}")
        text(
            entry,
            "title",
            f"{incident.title}"
            + (f" — {incident.address_block}" if incident.address_block else ""),
        )
        text(
            entry, "updated", incident.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        )
        etree.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", type=CAP_MEDIA_TYPE, href=cap_url
        )
        text(entry, "summary", f"{incident.category_label}, severity {SEVERITY[incident.severity]}")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")
