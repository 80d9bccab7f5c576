"""The published schemas the feeds are validated against (tests/data/schemas/SOURCE.md)."""

from __future__ import annotations

from pathlib import Path

import rnc2rng
from lxml import etree

SCHEMAS = Path(__file__).parents[1] / "data" / "schemas"


def atom_schema() -> etree.RelaxNG:
    """The RFC 4287 grammar (compact syntax) as an lxml validator."""
    source = (SCHEMAS / "atom" / "atom_rfc4287.rng").read_text()
    xml = rnc2rng.dumps(rnc2rng.loads(source)).replace(' xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(xml.encode()))


def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XSD."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "cap" / "CAP-v1.2.xsd")))
