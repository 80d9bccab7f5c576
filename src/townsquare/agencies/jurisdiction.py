"""An agency's jurisdiction: a GeoJSON Polygon or MultiPolygon, checked once, then queried.

Checked by `townsquare.shapes` (positions, closed rings, vertex count, antimeridian, size,
validity, area), each part on its own. Holes are honoured by `contains` (even-odd rule over
every ring of a polygon).
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from townsquare import shapes
from townsquare.shapes import Polygon

MAX_VERTICES = 2_000  # a city or county boundary fits
MAX_EXTENT_M = 2_000_000.0  # a state's police fits (Texas is about 1,600 km corner to corner)
MAX_AREA_M2 = 1_000_000 * 1e6  # Texas is 696,000 km²
JURISDICTION = shapes.Limits(MAX_VERTICES, MAX_EXTENT_M, MAX_AREA_M2)


class JurisdictionError(ValueError):
    """The GeoJSON is not a usable jurisdiction; the message says why."""


def parse(geojson: dict[str, Any], *, check: bool = True) -> list[Polygon]:
    """The polygons of a Polygon, MultiPolygon or Feature holding one; raises a ValueError.

    `check=False` skips the shape rules (for a stored, already checked value).
    """
    if geojson.get("type") == "Feature":
        geometry = geojson.get("geometry")
        if not isinstance(geometry, dict):
            raise JurisdictionError("a Feature needs a geometry")
        geojson = geometry
    kind, coordinates = geojson.get("type"), geojson.get("coordinates")
    given: list[Any]
    if kind == "Polygon":
        given = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        given = coordinates
    else:
        raise JurisdictionError("type must be Polygon or MultiPolygon with coordinates")
    if not check:
        return [[[(float(p[0]), float(p[1])) for p in ring] for ring in rings] for rings in given]
    return shapes.check_polygons(given, JURISDICTION)  # a ShapeError names the rule broken


def normalized(geojson: dict[str, Any]) -> str:
    """The stored form: a compact GeoJSON MultiPolygon text of the checked polygons."""
    polygons = parse(geojson)
    coordinates = [[[list(position) for position in ring] for ring in p] for p in polygons]
    return json.dumps({"type": "MultiPolygon", "coordinates": coordinates}, separators=(",", ":"))


def contains(stored: str, lat: float, lon: float) -> bool:
    """True when the point lies inside the stored jurisdiction (a hole is outside)."""
    polygons = parse(json.loads(stored), check=False)
    return any(_inside(polygon, lon, lat) for polygon in polygons)


def _inside(polygon: Polygon, x: float, y: float) -> bool:
    inside = False
    for ring in polygon:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside
