"""An agency's jurisdiction: a GeoJSON Polygon or MultiPolygon, checked once, then queried.

Checked: GeoJSON positions are [lon, lat] in range; every ring has four or more positions,
is closed and does not cross itself; an outer ring encloses some area. Holes are honoured
by `contains` (even-odd rule over every ring of a polygon).
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

MAX_VERTICES = 2_000  # the crossing check is quadratic; a city boundary fits
Ring = list[tuple[float, float]]
Polygon = list[Ring]


class JurisdictionError(ValueError):
    """The GeoJSON is not a usable jurisdiction; the message says why."""


def parse(geojson: dict[str, Any], *, check: bool = True) -> list[Polygon]:
    """The polygons of a Polygon, MultiPolygon or Feature holding one; raises JurisdictionError.

    `check=False` skips the quadratic crossing test (for a stored, already checked value).
    """
    if geojson.get("type") == "Feature":
        geometry = geojson.get("geometry")
        if not isinstance(geometry, dict):
            raise JurisdictionError("a Feature needs a geometry")
        geojson = geometry
    kind, coordinates = geojson.get("type"), geojson.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coordinates)]
    elif kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        polygons = [_polygon(p) for p in coordinates]
    else:
        raise JurisdictionError("type must be Polygon or MultiPolygon with coordinates")
    if sum(len(ring) for polygon in polygons for ring in polygon) > MAX_VERTICES:
        raise JurisdictionError(f"at most {MAX_VERTICES} positions")
    for polygon in polygons if check else []:
        for ring in polygon:
            _simple(ring)
        if abs(_area(polygon[0])) == 0.0:
            raise JurisdictionError("an outer ring encloses no area")
    return polygons


def normalized(geojson: dict[str, Any]) -> str:
    """The stored form: a compact GeoJSON MultiPolygon text of the checked polygons."""
    polygons = parse(geojson)
    coordinates = [[[list(position) for position in ring] for ring in p] for p in polygons]
    return json.dumps({"type": "MultiPolygon", "coordinates": coordinates}, separators=(",", ":"))


def contains(stored: str, lat: float, lon: float) -> bool:
    """True when the point lies inside the stored jurisdiction (a hole is outside)."""
    polygons = parse(json.loads(stored), check=False)
    return any(_inside(polygon, lon, lat) for polygon in polygons)


def _polygon(rings: Any) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise JurisdictionError("a polygon is a list of rings")
    return [_ring(ring) for ring in rings]


def _ring(positions: Any) -> Ring:
    if not isinstance(positions, list) or len(positions) < 4:
        raise JurisdictionError("each ring needs four or more positions")
    ring: Ring = []
    for position in positions:
        if not isinstance(position, list | tuple) or len(position) < 2:
            raise JurisdictionError("a position is [lon, lat]")
        lon, lat = position[0], position[1]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
            raise JurisdictionError("a position holds numbers")
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise JurisdictionError(f"position {[lon, lat]} is out of range ([lon, lat])")
        ring.append((float(lon), float(lat)))
    if ring[0] != ring[-1]:
        raise JurisdictionError("each ring must be closed (last position = first)")
    return ring


def _area(ring: Ring) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring)) / 2


def _simple(ring: Ring) -> None:
    """Refuse a ring whose edges cross (a bow-tie): its inside would be ambiguous."""
    edges = list(pairwise(ring))
    count = len(edges)
    for i in range(count):
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue  # the first and last edges share the closing position
            if _cross(*edges[i], *edges[j]):
                raise JurisdictionError("a ring crosses itself")


def _orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


Position = tuple[float, float]


def _cross(p1: Position, p2: Position, q1: Position, q2: Position) -> bool:
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4)


def _inside(polygon: Polygon, x: float, y: float) -> bool:
    inside = False
    for ring in polygon:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside
