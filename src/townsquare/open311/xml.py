"""GeoReport XML: the JSON shapes written as schemaless XML (the Spark convention, reversed).

A list becomes a container element with one child per item, named by `ITEMS`; `true` and
`false` are written in lower case and a null becomes an empty element. UTF-8 with the XML
declaration, no namespace, as the spec asks.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(etree.SubElement(element, key), item)
    elif isinstance(value, list):
        child = ITEMS[str(element.tag)]
        for item in value:
            _fill(etree.SubElement(element, child), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """The document `<root>` holding `data` (a list or a mapping of JSON values)."""
    element = etree.Element(root)
    _fill(element, data)
    # The declaration as the spec prints it (double quotes; lxml would write single ones).
    return DECLARATION + etree.tostring(element, encoding="UTF-8", pretty_print=True)
