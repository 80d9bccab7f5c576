"""Checking GeoReport answers: JSON against the Open311 schemas, XML against its JSON twin."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from defusedxml import ElementTree
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).parents[1] / "data" / "open311"
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
CHECKER = FormatChecker()
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@CHECKER.checks("date-time")
def _date_time(value: object) -> bool:
    """W3C date-time with a zone, as the spec requires (jsonschema has no checker bundled)."""
    if not isinstance(value, str) or not W3C.match(value):
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@CHECKER.checks("uri")
def _uri(value: object) -> bool:
    """An absolute URI."""
    return isinstance(value, str) and bool(urlsplit(value).scheme) and " " not in value


def _registry() -> Registry[Any]:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT4))
        for path in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(schema: str, document: Any) -> None:
    """Raise if `document` does not validate against the named schema (formats checked)."""
    contents = json.loads((SCHEMAS / schema).read_text())
    Draft4Validator(contents, registry=REGISTRY, format_checker=CHECKER).validate(document)


def as_text(value: Any) -> Any:
    """A JSON value as its XML text would read (null empty, booleans lower case)."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read(element: Any) -> Any:
    children = list(element)
    if element.tag in ITEMS:
        assert all(child.tag == ITEMS[element.tag] for child in children), element.tag
        return [_read(child) for child in children]
    if not children:
        return element.text or ""
    return {child.tag: _read(child) for child in children}


def parse_xml(body: bytes, root: str) -> Any:
    """The XML document as JSON-like text values; checks the declaration and root."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
    tree = ElementTree.fromstring(body)
    assert tree.tag == root
    assert "{" not in tree.tag  # no namespace
    return _read(tree)


def same_in_xml(json_body: Any, xml_body: bytes, root: str) -> None:
    """The XML answer says exactly what the JSON answer says."""
    assert parse_xml(xml_body, root) == as_text(json_body)
