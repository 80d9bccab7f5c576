"""NENA EIDO JSON (NENA-STA-021), usually pushed: person and call components are dropped.

An EIDO carries who called and who is involved (`personComponent`, `callComponent`,
`callbackComponent`, `agentComponent`, `vehicleComponent`, `notesComponent`,
`additionalDataComponent`): those are removed before anything else happens, so they are
never stored, not even as the raw record. What remains is flattened: the first
`incidentComponent` as "incident.*" and the location it references as "location.*", with
"location.point" = "lat, lon" read from the PIDF-LO `gml:pos` inside `locationByValue`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from townsquare.errors import SourceError
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.http import Fetched, flatten, parse_json, read_location
from townsquare.ingest.sources.xmlfeed import parse_xml

DROPPED = (
    "personComponent",
    "callComponent",
    "callbackComponent",
    "agentComponent",
    "vehicleComponent",
    "notesComponent",
    "additionalDataComponent",
)
CIVIC = {"HNO", "PRD", "RD", "STS", "POD", "A3"}


class EidoSource:
    """The incident of each EIDO in a body (one EIDO object or a list of them)."""

    kind: ClassVar[str] = "eido"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The EIDO(s) at `location` (pushes arrive through `parse`)."""
        return self.parse(config, read_location(config).content)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """One record per EIDO, without its person and call components."""
        document = parse_json(Fetched(config.location or config.slug, body, ""))
        eidos = document if isinstance(document, list) else [document]
        for number, eido in enumerate(eidos, start=1):
            if not isinstance(eido, dict):
                raise SourceError(f"EIDO {number} is not an object")
            yield RawItem(f"eido {number}", eido_columns(eido))


def eido_columns(eido: dict[str, Any]) -> dict[str, str]:
    """The public-safe parts of one EIDO as flat columns."""
    kept = {k: v for k, v in eido.items() if k not in DROPPED and k != "@context"}
    found: dict[str, str] = {
        "id": str(kept.get("$id", "")),
        "lastUpdateTimeStamp": str(kept.get("lastUpdateTimeStamp", "")),
    }
    incidents = kept.get("incidentComponent") or []
    incident = incidents[0] if isinstance(incidents, list) and incidents else {}
    if isinstance(incident, dict):
        found.update(flatten(incident, "incident"))
    locations = [loc for loc in kept.get("locationComponent") or [] if isinstance(loc, dict)]
    wanted = _ref(incident.get("locationReference")) if isinstance(incident, dict) else None
    location = next((loc for loc in locations if loc.get("$id") == wanted), None)
    location = location or (locations[0] if locations else None)
    if location is not None:
        by_value = str(location.get("locationByValue", ""))
        found.update(
            flatten({k: v for k, v in location.items() if k != "locationByValue"}, "location")
        )
        found.update(_pidf(by_value))
    return found


def _pidf(document: str) -> dict[str, str]:
    """Point and street address of a PIDF-LO document (its entity and provider are not kept)."""
    if not document.strip():
        return {}
    found: dict[str, str] = {}
    root = parse_xml(document.encode("utf-8"), "locationByValue")
    civic: dict[str, str] = {}
    for element in root.iter():
        local = element.tag.rpartition("}")[2]
        if local == "pos" and element.text and "location.point" not in found:
            parts = element.text.split()
            if len(parts) >= 2:
                found["location.point"] = f"{parts[0]}, {parts[1]}"
        if local in CIVIC and element.text:
            civic.setdefault(local, element.text.strip())
    street = " ".join(civic[k] for k in ("HNO", "PRD", "RD", "STS", "POD") if k in civic)
    if street:
        found["location.address"] = street
    if "A3" in civic:
        found["location.city"] = civic["A3"]
    return found


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("$ref")) if value.get("$ref") else None
    if isinstance(value, list) and value:
        return _ref(value[0])
    return str(value) if isinstance(value, str) else None
