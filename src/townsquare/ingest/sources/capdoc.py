"""Where the CAP alerts of a body are, whatever carries them.

A body is a CAP alert; a `<alerts>` wrapper of several; an EDXL-DE envelope (Australian fire
services: `EDXLDistribution/contentObject/xmlContent/embeddedXMLContent/alert`); or an Atom
or RSS index whose entries carry an alert in `<content>` (Environment Canada, NWS), as XML or
as escaped text, or only the alert's `cap:` elements (the NWS index), or a link to it.

Each alert found comes with its twin in an lxml tree of the same bytes, so it can be checked
against its CAP version's schema with the line numbers of the document it came in. Both
parses happen only after defusedxml has refused DTDs and entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from lxml import etree

from townsquare.errors import SourceError
from townsquare.ingest.capschema import CAP_12, VERSIONS, safe_parser
from townsquare.ingest.sources.atom import entries
from townsquare.ingest.sources.xmlfeed import name, parse_xml

EXPECTED = f"a CAP alert in {CAP_12} (or CAP 1.1, 1.0), an Atom feed or an RSS document"


@dataclass(frozen=True, slots=True)
class Found:
    """One alert of a body (`alert`), or an Atom index entry to read or follow (`entry`)."""

    position: str
    alert: Element | None = None
    twin: etree._Element | None = None
    """The same alert parsed by lxml, for schema validation (None: not available)."""
    entry: Element | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed body: the defused root, and the CAP alerts of its lxml twin by position."""

    root: Element
    twins: dict[int, etree._Element]
    """id() of each CAP alert element of `root` -> the same alert in the lxml tree."""


def namespace(element: Element) -> str:
    """The element's namespace URI ("" for none)."""
    tag = element.tag
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def local(element: Element) -> str:
    """The element's local name."""
    return element.tag.rpartition("}")[2]


def is_alert(element: Element) -> bool:
    """A CAP alert of a known version."""
    return local(element) == "alert" and namespace(element) in VERSIONS


def read(body: bytes, where: str) -> Document:
    """The body parsed twice (defused, then lxml), CAP alerts paired in document order."""
    root = parse_xml(body, where)
    alerts = [e for e in root.iter() if is_alert(e)]
    twins: dict[int, etree._Element] = {}
    if alerts:
        try:
            tree = etree.fromstring(body, safe_parser())
        except etree.XMLSyntaxError:
            return Document(root, {})
        found = [
            e
            for e in tree.iter()
            if isinstance(e.tag, str)
            and etree.QName(e).localname == "alert"
            and etree.QName(e).namespace in VERSIONS
        ]
        if len(found) == len(alerts):
            twins = {id(a): t for a, t in zip(alerts, found, strict=True)}
    return Document(root, twins)


def wrong_namespace(root: Element) -> SourceError:
    """The error for a root in no namespace we read, naming the one found and expected."""
    found = namespace(root) or "no namespace"
    return SourceError(f"found <{local(root)}> in {found}; expected {EXPECTED}")


def alerts_of(document: Document, where: str) -> list[Found]:
    """The alerts (or index entries) of a body, by the wrapper that carries them."""
    root, twins = document.root, document.twins
    if is_alert(root):
        return [Found("alert", root, twins.get(id(root)))]
    if local(root) == "alert":
        raise wrong_namespace(root)
    if local(root) in {"alerts", "EDXLDistribution"}:
        alerts = [e for e in root.iter() if is_alert(e)]
        if not alerts:
            raise SourceError(f"<{local(root)}> holds no CAP alert; expected {EXPECTED}")
        label = "alert" if local(root) == "alerts" else "contentObject"
        return [
            Found(f"{label} {n}", alert, twins.get(id(alert)))
            for n, alert in enumerate(alerts, start=1)
        ]
    if name(root) not in {"feed", "rss"}:
        raise wrong_namespace(root)
    return [_entry(number, entry, twins, where) for number, entry in enumerate(entries(root), 1)]


def _entry(number: int, entry: Element, twins: dict[int, etree._Element], where: str) -> Found:
    position = f"entry {number}"
    content = next((c for c in entry if local(c) in {"content", "description"}), None)
    if content is not None:
        inner = next((e for e in content.iter() if is_alert(e)), None)
        if inner is not None:
            return Found(position, inner, twins.get(id(inner)))
        text = (content.text or "").strip()
        if text.startswith("<") and "alert" in text[:2000]:
            escaped = read(text.encode("utf-8"), f"{where} {position} content")
            if is_alert(escaped.root):
                return Found(position, escaped.root, escaped.twins.get(id(escaped.root)))
    return Found(position, entry=entry)
