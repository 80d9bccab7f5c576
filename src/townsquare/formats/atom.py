"""Atom 1.0 (RFC 4287) feed with GeoRSS-Simple points, from public incidents only."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from townsquare.incidents.schemas import IncidentPublic

ATOM = "http://www.w3.org/2005/Atom"
GEORSS = "http://www.georss.org/georss"


def _text(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def atom_feed(
    incidents: list[IncidentPublic],
    *,
    title: str,
    self_url: str,
    base_url: str,
    updated: datetime,
) -> bytes:
    """Serialize a page of incidents; each entry links to its page and carries its point."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "georss": GEORSS})  # type: ignore[dict-item]
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    newest = max((i.updated_at for i in incidents), default=updated)
    _text(feed, "updated", _stamp(newest))
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "Townsquare")
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=base_url + "/")
    for incident in incidents:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        url = f"{base_url}/incidents/{incident.id}"
        _text(entry, "id", url)
        place = f" — {incident.address_block}" if incident.address_block else ""
        _text(entry, "title", f"{incident.title}{place}")
        _text(entry, "updated", _stamp(incident.updated_at))
        _text(entry, "published", _stamp(incident.published_at))
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url)
        etree.SubElement(
            entry, f"{{{ATOM}}}category", term=incident.category, label=incident.category_label
        )
        summary = (
            f"{incident.category_label}. {incident.summary} "
            f"Occurred {_stamp(incident.occurred_at)}. Source: "
            f"{incident.agency or incident.provenance}."
        )
        _text(entry, "summary", summary.strip(), type="text")
        for media in incident.media:  # a resident's photos and clips, blurred, as approved
            etree.SubElement(
                entry, f"{{{ATOM}}}link", rel="enclosure", type=media.content_type,
                href=base_url + media.url,
            )  # fmt: skip
        point = etree.SubElement(entry, f"{{{GEORSS}}}point")
        point.text = f"{incident.lat} {incident.lon}"  # GeoRSS order is "lat lon"
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")
