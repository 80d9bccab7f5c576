"""The stored form of a watch area: the H3 cells that approximate it, never its shape.

The server keeps no centre, radius or polygon: the browser keeps those for display, and the
server keeps only the cells whose centres lie in the shape, at a resolution fine enough for
the cells to follow the shape (cell edge at most `CELLS_PER_RADIUS` times smaller than the
radius), compacted into coarser parents where all 7 children are in. The cover *is* the area:
an incident matches when its cell at one of the cover's resolutions is in it, with no exact
test. The price: the area's border moves by up to about one cell edge (radius / 8), so an
incident just outside may match and one just inside may not. The gain: a stolen database says
which cells are watched, not where anyone's circle was centred (the cells still show roughly
where: `bench/subscriber_location.py` measures how roughly).
"""

from __future__ import annotations

import hashlib
import itertools
import math

import h3
from h3.api import basic_int as h3i

from townsquare import geo, shapes
from townsquare.alerts.cover import CellArea, CircleArea, PolygonArea

CELLS_PER_RADIUS = 8.0
"""Cells are chosen so that their edge is at most radius / this (about 200 cells per circle)."""
FINEST = 13
EDGE_M = {res: h3.average_hexagon_edge_length(res, "m") for res in range(16)}


def resolution_for(radius_m: float) -> int:
    """The coarsest resolution whose average cell edge is at most radius / CELLS_PER_RADIUS."""
    want = radius_m / CELLS_PER_RADIUS
    return next((r for r in range(FINEST + 1) if EDGE_M[r] <= want), FINEST)


def circle_cells(lat: float, lon: float, radius_m: float) -> tuple[int, ...]:
    """The compacted cells whose centres lie in the circle (the centre's cell at least)."""
    res = resolution_for(radius_m)
    centre = h3i.latlng_to_cell(lat, lon, res)
    rings = math.ceil(radius_m / (1.5 * EDGE_M[res] * 0.5)) + 1  # cells shrink to ~0.5x
    shapes.spend_cells(shapes.disk_size(rings), "the circle")
    found = [
        c
        for c in h3i.grid_disk(centre, rings)
        if geo.haversine_m(lat, lon, *h3i.cell_to_latlng(c)) <= radius_m
    ]
    return _compacted(found or [centre])


def polygon_cells(area: PolygonArea) -> tuple[int, ...]:
    """The compacted cells whose centres lie in the polygon (holes left out)."""
    circle = area.bounding_circle()
    radius = _equivalent_radius_m(area, circle)
    res = resolution_for(radius)
    walked = circle.radius_m**2 * 4 / h3.average_hexagon_area(res, "m^2")  # its bounding box
    shapes.spend_cells(int(walked), "the polygon")
    outer, *holes = ([(lat, lon) for lon, lat in ring] for ring in area.rings)
    found = h3i.polygon_to_cells(h3.LatLngPoly(outer, *holes), res)
    if not found:  # a sliver thinner than a cell: the cell under its middle
        found = [h3i.latlng_to_cell(circle.lat, circle.lon, res)]
    return _compacted(found)


def _equivalent_radius_m(area: PolygonArea, circle: CircleArea) -> float:
    """The radius of a circle of the polygon's area (shoelace in local metres)."""
    ring = area.rings[0]
    k = math.cos(math.radians(circle.lat)) * 111_320.0
    twice = sum(
        (x1 * k) * (y2 * 111_320.0) - (x2 * k) * (y1 * 111_320.0)
        for (x1, y1), (x2, y2) in itertools.pairwise(ring)
    )
    return max(math.sqrt(abs(twice) / 2 / math.pi), 50.0)


def _compacted(cells: list[int]) -> tuple[int, ...]:
    return tuple(sorted(h3i.compact_cells(sorted(set(cells)))))


def cover_key(cells: tuple[int, ...]) -> str:
    """A digest of a cover: the same cells give the same key (finds duplicate areas)."""
    return hashlib.sha256(",".join(str(c) for c in sorted(cells)).encode()).hexdigest()


def centroid(cells: tuple[int, ...]) -> tuple[float, float, float]:
    """The area-weighted centre of a cover and the radius of a circle of its area, in metres.

    What the cells alone tell about where the area is: used for the weekly page link, and by
    the bench that measures how far this locates a subscriber.
    """
    weights = [h3i.cell_area(c, "m^2") for c in cells]
    total = sum(weights)
    vectors = [_unit(*h3i.cell_to_latlng(c)) for c in cells]
    x, y, z = (sum(w * v[i] for w, v in zip(weights, vectors, strict=True)) for i in range(3))
    norm = math.sqrt(x * x + y * y + z * z)
    lat = math.degrees(math.asin(z / norm))
    lon = math.degrees(math.atan2(y, x))
    return lat, lon, math.sqrt(total / math.pi)


def _unit(lat: float, lon: float) -> tuple[float, float, float]:
    p, q = math.radians(lat), math.radians(lon)
    return math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p)


def cell_area(cells: tuple[int, ...]) -> CellArea:
    """The area the server matches with."""
    return CellArea(tuple(sorted(cells)))
