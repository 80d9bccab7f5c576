"""Safe XML for the atom and cap kinds: no DTD, no entities, elements as flat columns.

A document with a DTD is refused before anything is expanded (defusedxml), so an entity
bomb ("billion laughs") or an external entity costs nothing; the body itself is already
bounded by the fetch. Elements become columns named by a short namespace prefix and their
local name ("georss:point", "cap:event", "link@href" for an attribute).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import Field

from townsquare.errors import SourceError
from townsquare.ingest.sources.base import MAX_DEPTH, KindOptions, TooDeep

PREFIXES = {
    "http://www.w3.org/2005/Atom": "",
    "http://www.georss.org/georss": "georss:",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo:",
    "urn:oasis:names:tc:emergency:cap:1.2": "cap:",
    "urn:oasis:names:tc:emergency:cap:1.1": "cap:",
    "http://www.incident.com/cap/1.0": "cap:",
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://www.w3.org/2000/09/xmldsig#": "ds:",
}


class FeedOptions(KindOptions):
    """Atom/RSS and CAP readers (the `[feed]` table of both kinds)."""

    follow_links: bool = True
    """CAP: an Atom index's entries are fetched from their links (else the entry is used)."""
    max_entries: int = Field(default=500, ge=1)


def parse_xml(body: bytes, where: str) -> Element:
    """The root element; SourceError for a DTD, entities or a malformed document."""
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        refused = f"{where}: refused XML ({type(exc).__name__}): no DTDs or entities"
        raise SourceError(refused) from None
    except ParseError as exc:
        raise SourceError(f"{where}: not well-formed XML: {exc}") from exc
    return root


def name(element: Element) -> str:
    """The element's short name: known namespace prefix + local name."""
    tag = element.tag
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return PREFIXES.get(uri, "") + local
    return tag


def columns(element: Element, prefix: str = "", depth: int = 1) -> dict[str, str]:
    """Children as columns, nested ones dotted; repeated ones keep the first.

    TooDeep past `MAX_DEPTH` levels, naming the column where it went too deep.
    """
    found: dict[str, str] = {}
    for child in element:
        key = prefix + name(child)
        if len(child):
            if depth >= MAX_DEPTH:
                raise TooDeep(key)
            for sub, value in columns(child, key + ".", depth + 1).items():
                found.setdefault(sub, value)
        else:
            found.setdefault(key, (child.text or "").strip())
        for attribute, value in child.attrib.items():
            found.setdefault(f"{key}@{attribute}", value)
    return found


def georss_point(text: str) -> str | None:
    """GeoRSS "lat lon" (space-separated, latitude first) as "lat, lon"."""
    parts = text.split()
    return f"{parts[0]}, {parts[1]}" if len(parts) == 2 else None


def circle_centre(text: str) -> str | None:
    """The centre of a CAP circle "lat,lon radius" as "lat, lon"."""
    centre = text.split()[0] if text.split() else ""
    lat, _, lon = centre.partition(",")
    return f"{lat}, {lon}" if lat and lon else None


def polygon_centre(text: str) -> str | None:
    """The mean vertex of a CAP polygon "lat,lon lat,lon ..." as "lat, lon"."""
    pairs = [p.split(",") for p in text.split() if "," in p]
    if len(pairs) > 1 and pairs[0] == pairs[-1]:
        pairs = pairs[:-1]  # a closed ring repeats its first vertex
    try:
        lats = [float(p[0]) for p in pairs]
        lons = [float(p[1]) for p in pairs]
    except (ValueError, IndexError):
        return None
    if not lats:
        return None
    return f"{sum(lats) / len(lats):.6f}, {sum(lons) / len(lons):.6f}"
