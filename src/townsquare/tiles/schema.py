"""OpenStreetMap tags to the Protomaps basemap v4 layers and kinds that protomaps-leaflet draws.

Only what a resident needs to find a street: `roads` (kind, kind_detail, name), `water` and
`earth`. The zoom at which each kind appears keeps the small-scale tiles light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROAD_KINDS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("motorway", "motorway_link"), ("highway", 8)),
    **dict.fromkeys(("trunk", "trunk_link", "primary", "primary_link"), ("major_road", 9)),
    **dict.fromkeys(("secondary", "secondary_link"), ("major_road", 10)),
    **dict.fromkeys(("tertiary", "tertiary_link"), ("major_road", 11)),
    **dict.fromkeys(("residential", "unclassified", "living_street", "road"), ("minor_road", 12)),
    **dict.fromkeys(("service", "busway"), ("minor_road", 14)),
    **dict.fromkeys(
        ("pedestrian", "footway", "path", "cycleway", "steps", "track", "bridleway", "corridor"),
        ("path", 14),
    ),
}
"""highway=* value → (Protomaps `kind`, first zoom drawn); the value itself is `kind_detail`."""
WATER_LINES = {"river": 9, "canal": 11, "stream": 13}
WATER_AREAS = {"water", "reservoir", "basin"}  # natural=water, landuse=reservoir|basin


@dataclass(frozen=True, slots=True)
class Feature:
    """One map feature in the tile schema: its layer, properties and where it starts."""

    layer: str  # roads | water | earth
    geometry: dict[str, Any]  # GeoJSON geometry, lon/lat (EPSG:4326)
    kind: str
    kind_detail: str = ""
    name: str = ""
    min_zoom: int = 0

    def properties(self) -> dict[str, str]:
        """The properties written to the tile (empty ones left out)."""
        props = {"kind": self.kind, "kind_detail": self.kind_detail, "name": self.name}
        return {key: value for key, value in props.items() if value}


def road(tags: Mapping[str, str]) -> tuple[str, str, int] | None:
    """(kind, kind_detail, min_zoom) of a way with these tags if it is drawn as a road."""
    value = tags.get("highway", "")
    if value not in ROAD_KINDS or tags.get("area") == "yes":
        return None
    kind, min_zoom = ROAD_KINDS[value]
    return kind, value, min_zoom


def water_line(tags: Mapping[str, str]) -> tuple[str, int] | None:
    """(kind, min_zoom) of a waterway drawn as a line (rivers and streams)."""
    value = tags.get("waterway", "")
    return (
        (value if value != "canal" else "river", WATER_LINES[value])
        if value in WATER_LINES
        else None
    )


def water_area(tags: Mapping[str, str]) -> str | None:
    """The water kind of an area with these tags (lake, water), or None if it is no water."""
    if tags.get("natural") == "water" or tags.get("waterway") == "riverbank":
        return "lake" if tags.get("water") in {"lake", "reservoir"} else "water"
    if tags.get("landuse") in WATER_AREAS:
        return "water"
    return None


def is_coastline(tags: Mapping[str, str]) -> bool:
    """A coastline way: land on its left, sea on its right (OSM's convention)."""
    return tags.get("natural") == "coastline"
