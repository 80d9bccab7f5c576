"""Plane geometry of request areas; shapes are checked and measured by `townsquare.shapes`.

Areas are measured on the sinusoidal projection about the ring's own meridian, which is
equal-area on the sphere: for areas of a square mile the error against the ellipsoid is a
fraction of a percent, far inside the bounds' margins. Containment works on longitude and
latitude directly (a straight edge of a few hundred metres bends by millimetres).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from townsquare import shapes

Ring = list[tuple[float, float]]  # (lon, lat) pairs, first point not repeated
Polygon = list[Ring]  # outer ring, then holes

EARTH_RADIUS_M = 6_371_008.8
SQUARE_MILE_M2 = 2_589_988.110336
CIRCLE_SIDES = 64


def ring_of(coordinates: Sequence[Sequence[float]]) -> Ring:
    """A GeoJSON linear ring as (lon, lat) pairs without its closing point."""
    ring = [(float(p[0]), float(p[1])) for p in coordinates]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def polygons_of(geojson: str | dict[str, object]) -> list[Polygon]:
    """The polygons of a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection."""
    data = json.loads(geojson) if isinstance(geojson, str) else geojson
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        return (
            [p for f in features if isinstance(f, dict) for p in polygons_of(f)]
            if isinstance(features, list)
            else []
        )
    if kind == "Feature":
        geometry = data.get("geometry")
        return polygons_of(geometry) if isinstance(geometry, dict) else []
    coordinates = data.get("coordinates")
    if not isinstance(coordinates, list):
        return []
    if kind == "Polygon":
        return [[ring_of(r) for r in coordinates]]
    if kind == "MultiPolygon":
        return [[ring_of(r) for r in polygon] for polygon in coordinates]
    return []


def area_m2(ring: Ring) -> float:
    """The area enclosed by a ring, square metres (sinusoidal projection)."""
    return shapes.area_m2([ring])


def centroid(ring: Ring) -> tuple[float, float]:
    """The mean of a ring's vertices as (lat, lon): a centre for the feed item's point."""
    return sum(lat for _, lat in ring) / len(ring), sum(lon for lon, _ in ring) / len(ring)


def circle(lat: float, lon: float, radius_m: float, sides: int = CIRCLE_SIDES) -> Ring:
    """A regular polygon inscribed in a circle on the ground, as (lon, lat) pairs."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    d_lon = d_lat / max(math.cos(math.radians(lat)), 1e-9)
    return [
        (
            lon + d_lon * math.sin(2 * math.pi * i / sides),
            lat + d_lat * math.cos(2 * math.pi * i / sides),
        )
        for i in range(sides)
    ]


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def in_polygon(lon: float, lat: float, polygon: Polygon) -> bool:
    """True if the point lies inside the outer ring and in none of the holes."""
    return _in_ring(lon, lat, polygon[0]) and not any(_in_ring(lon, lat, h) for h in polygon[1:])


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _edges_cross(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _edges(ring: Ring) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(zip(ring, ring[1:] + ring[:1], strict=True))


def ring_within(ring: Ring, polygons: list[Polygon]) -> bool:
    """True if the whole ring lies inside one of the polygons (no vertex out, no edge across)."""
    for polygon in polygons:
        if not all(in_polygon(lon, lat, polygon) for lon, lat in ring):
            continue
        boundary = [e for r in polygon for e in _edges(r)]
        if not any(_edges_cross(a, b, c, d) for a, b in _edges(ring) for c, d in boundary):
            return True
    return False
