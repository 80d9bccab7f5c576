"""The CAP schemas shipped in the package (ingest/cap_schemas/, see its SOURCE.md), by namespace.

Incoming alerts are validated against the schema of their own CAP version (1.0, 1.1, 1.2),
so an alert that breaks it is quarantined with the schema's own words instead of being read
for the few fields we happen to use; our own output is checked against 1.2 and the IPAWS
profile in the tests. XML reaches lxml only after defusedxml has refused DTDs and entities,
and the parser below loads no DTD, resolves no entity and touches no network anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

CAP_10 = "http://www.incident.com/cap/1.0"
CAP_11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP_12 = "urn:oasis:names:tc:emergency:cap:1.2"
VERSIONS = {CAP_12: "1.2", CAP_11: "1.1", CAP_10: "1.0"}
"""CAP namespaces and the version each stands for."""
FILES = {CAP_12: "CAP-v1.2.xsd", CAP_11: "CAP-v1.1.xsd", CAP_10: "CAP-v1.0.xsd"}
IPAWS_FILE = "capv1.2-ipaws-profile-v1.0-pr02.xsd"


def safe_parser() -> etree.XMLParser:
    """An lxml parser that loads no DTD, expands no entity and fetches nothing."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _load(file: str) -> etree.XMLSchema:
    path = resources.files("townsquare").joinpath("ingest", "cap_schemas", file)
    return etree.XMLSchema(etree.fromstring(path.read_bytes(), safe_parser()))


@cache
def schema_for(namespace: str) -> etree.XMLSchema:
    """The XSD of the CAP version `namespace` names (KeyError for another namespace)."""
    return _load(FILES[namespace])


@cache
def ipaws_schema() -> etree.XMLSchema:
    """The FEMA IPAWS profile of CAP 1.2."""
    return _load(IPAWS_FILE)


def schema_error(alert: etree._Element) -> str | None:
    """None if `alert` is valid under its version's schema; else "CAP 1.x schema, line N: ..."."""
    namespace = etree.QName(alert).namespace or ""
    schema = schema_for(namespace)
    if schema.validate(alert):
        return None
    log: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # the stubs are empty
    error = next(iter(log), None)  # the first: later ones often follow from it
    if error is None:
        return f"CAP {VERSIONS[namespace]} schema: invalid"
    return f"CAP {VERSIONS[namespace]} schema, line {error.line}: {error.message}"
