"""Shapes people send (watch areas, jurisdictions, footage request areas), checked before any work.

Every geometry route checks its shapes here, cheapest rule first, and a refusal names its rule:

- `structure`: polygons are lists of rings, rings are lists of [lon, lat] positions;
- `vertex count`: at most the route's number of positions (counted before any is read);
- `positions`: finite numbers, longitude within ±180 and latitude within ±90;
- `closed`: each ring has four or more positions and ends where it starts;
- `antimeridian`: no edge spans more than 180° of longitude (it would cross ±180°, which
  lon/lat polygons cannot say), and all longitudes together span at most 180° (it wraps);
- `size`: the bounding box's diagonal on the ground within the route's bound;
- `zero area`, `self-crossing`, `valid`: an outer ring encloses area, no edges cross, holes lie
  inside their shell (shapely's validity);
- `area`: at most the route's bound, measured on the sinusoidal projection about the shape's
  own meridian (equal-area on the sphere).

Circles are checked the same way: centre in range, radius bounded, not reaching a pole nor
crossing the antimeridian. `spend_cells` bounds the H3 cells one area may make the server walk,
for shapes stored before these rules.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from townsquare.errors import InvalidParameter
from townsquare.geo import EARTH_RADIUS_M, haversine_m

Position = tuple[float, float]  # (lon, lat), as GeoJSON writes it
Ring = list[Position]  # closed: the last position repeats the first
Polygon = list[Ring]  # outer ring, then holes

CELL_BUDGET = 250_000
"""The most H3 cells one area may make the server walk or expand. The largest area the routes
accept (a 10 km watch circle) is about 3,000 resolution-9 cells."""
ZERO_AREA_DEG2 = 1e-10
"""An outer ring whose hull, as drawn in degrees, is under this (about a square metre) is a line
or a point given as a polygon."""


class ShapeError(ValueError):
    """A shape broke a rule; `rule` names it and the message starts with it."""

    def __init__(self, rule: str, why: str) -> None:
        super().__init__(f"{rule}: {why}")
        self.rule = rule


class TooManyCells(InvalidParameter):
    """An area would make the server walk more H3 cells than `CELL_BUDGET` (a 422 on `area`)."""

    def __init__(self, detail: str) -> None:
        super().__init__("area", detail)


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds one route puts on its polygons."""

    max_vertices: int
    max_extent_m: float
    max_area_m2: float = math.inf
    holes: bool = True


def check_polygons(given: Any, limits: Limits) -> list[Polygon]:
    """The polygons (each a list of rings) as floats, once every rule holds; else ShapeError."""
    if not isinstance(given, list) or not given:
        raise ShapeError("structure", "expected a non-empty list of polygons")
    for rings in given:
        if not isinstance(rings, list) or not rings or not all(isinstance(r, list) for r in rings):
            raise ShapeError("structure", "a polygon is a non-empty list of rings of positions")
        if len(rings) > 1 and not limits.holes:
            raise ShapeError("structure", "one outer ring, no holes")
    count = sum(len(ring) for rings in given for ring in rings)
    if count > limits.max_vertices:
        raise ShapeError("vertex count", f"at most {limits.max_vertices} positions, not {count}")
    polygons = [[_ring(ring) for ring in rings] for rings in given]
    _check_antimeridian(polygons)
    _check_extent(polygons, limits.max_extent_m)
    parts = [_check_valid(polygon) for polygon in polygons]
    _check_apart(parts)
    total = sum(float(part.area) for part in parts)
    if total > limits.max_area_m2:
        raise ShapeError(
            "area", f"{total / 1e6:,.1f} km² is more than {limits.max_area_m2 / 1e6:,.1f} km²"
        )
    return polygons


def check_polygon(rings: Any, limits: Limits) -> Polygon:
    """One polygon (outer ring, then holes) as floats, once every rule holds; else ShapeError."""
    return check_polygons([rings], limits)[0]


def check_circle(lat: float, lon: float, radius_m: float, *, max_radius_m: float) -> None:
    """Refuse a circle off the globe, too large, around a pole or across the antimeridian."""
    _position(lon, lat)
    if not (math.isfinite(radius_m) and 0 < radius_m <= max_radius_m):
        raise ShapeError("size", f"the radius must be above 0 and at most {max_radius_m:g} m")
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    if abs(lat) + d_lat >= 90:
        raise ShapeError("pole", "the circle reaches a pole; keep it clear of ±90° latitude")
    if abs(lon) + d_lat / math.cos(math.radians(lat)) > 180:
        raise ShapeError("antimeridian", "the circle crosses ±180° longitude")


def area_m2(polygon: Sequence[Sequence[Position]]) -> float:
    """The area of a polygon (holes subtracted) in square metres, on an equal-area projection."""
    return float(_projected(polygon).area)


def _projected(polygon: Sequence[Sequence[Position]]) -> Any:
    """The polygon in metres on the sinusoidal projection about its own middle meridian."""
    lons = [lon for ring in polygon for lon, _ in ring]
    lon0 = (min(lons) + max(lons)) / 2
    shell, *holes = (
        [
            (
                math.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat)),
                math.radians(lat) * EARTH_RADIUS_M,
            )
            for lon, lat in ring
        ]
        for ring in polygon
    )
    return shapely.Polygon(shell, holes)


def disk_size(rings: int) -> int:
    """The number of cells within `rings` steps of one cell (a hexagonal disk)."""
    return 3 * rings * (rings + 1) + 1


def spend_cells(count: int, what: str) -> None:
    """Refuse to walk `count` cells for one area when it is over `CELL_BUDGET`."""
    if count > CELL_BUDGET:
        raise TooManyCells(f"{what} needs {count:,} H3 cells; the budget is {CELL_BUDGET:,}")


def _position(lon: Any, lat: Any) -> Position:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat))
    if not numbers or not (math.isfinite(lon) and math.isfinite(lat)):
        raise ShapeError("positions", "a position is [lon, lat], two finite numbers")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ShapeError("positions", f"{[lon, lat]} is out of range ([lon, lat], ±180, ±90)")
    return float(lon), float(lat)


def _ring(positions: list[Any]) -> Ring:
    if len(positions) < 4:
        raise ShapeError("closed", "each ring needs four or more positions")
    ring: Ring = []
    for position in positions:
        if not isinstance(position, list | tuple) or len(position) < 2:
            raise ShapeError("positions", "a position is [lon, lat]")
        ring.append(_position(position[0], position[1]))
    if ring[0] != ring[-1]:
        raise ShapeError("closed", "each ring must end where it starts (last position = first)")
    return ring


def _check_antimeridian(polygons: list[Polygon]) -> None:
    for polygon in polygons:
        for ring in polygon:
            for (lon1, _), (lon2, _) in itertools.pairwise(ring):
                if abs(lon2 - lon1) > 180:
                    raise ShapeError(
                        "antimeridian",
                        f"the edge from {lon1:g}° to {lon2:g}° longitude crosses ±180°; "
                        "an area must stay on one side of it",
                    )
    lons = [lon for polygon in polygons for ring in polygon for lon, _ in ring]
    span = max(lons) - min(lons)
    if span > 180:
        raise ShapeError("antimeridian", f"longitudes span {span:g}°, over 180°: it wraps")


def _check_extent(polygons: list[Polygon], max_extent_m: float) -> None:
    lons = [lon for polygon in polygons for lon, _ in polygon[0]]
    lats = [lat for polygon in polygons for _, lat in polygon[0]]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    extent = max(haversine_m(south, west, north, east), haversine_m(south, east, north, west))
    if extent > max_extent_m:
        raise ShapeError(
            "size",
            f"the shape is {extent / 1000:,.1f} km across; at most {max_extent_m / 1000:g} km",
        )


def _check_valid(polygon: Polygon) -> Any:
    """The polygon, projected, once its outer ring encloses some and shapely finds it valid."""
    if shapely.Polygon(polygon[0]).convex_hull.area < ZERO_AREA_DEG2:
        raise ShapeError("zero area", "the outer ring encloses no area (its points are on a line)")
    projected = _projected(polygon)
    reason = str(shapely.is_valid_reason(projected))
    if reason != "Valid Geometry":
        if "Self-intersection" in reason:
            raise ShapeError("self-crossing", "two edges of a ring cross each other")
        raise ShapeError("valid", reason.split("[")[0].strip().lower())
    return projected


def _check_apart(parts: list[Any]) -> None:
    """The parts of a MultiPolygon may touch but not overlap (their area would count twice,
    and a point inside both is in the area "twice")."""
    if len(parts) < 2:
        return
    tree = shapely.STRtree(parts)
    for first, second in zip(*tree.query(parts, predicate="intersects"), strict=True):
        if first < second and parts[first].intersection(parts[second]).area > 0:
            raise ShapeError("overlap", f"parts {first + 1} and {second + 1} overlap")
