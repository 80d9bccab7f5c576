"""The cell cover behind the SQL feed query: a point within the radius is never missed."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare import geo


def test_a_wide_circle_over_small_cells_keeps_its_edge() -> None:
    # Found by a property run: a ring count from the mean edge length missed this point.
    centre = geo.Point(54.84989, -139.50345)
    cells = set(geo.disk_cells(centre, 8565, 7))
    assert geo.haversine_m(54.84989, -139.50345, 54.802235, -139.607546) < 8565
    assert geo.cell_int(54.802235, -139.607546, 7) in cells


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    radius_m=st.floats(100, 10_000),
    resolution=st.sampled_from([5, 7]),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.floats(0, 0.999),
)
def test_every_point_inside_the_circle_lies_in_a_listed_cell(
    lat: float, lon: float, radius_m: float, resolution: int, bearing: float, fraction: float
) -> None:
    distance = radius_m * fraction
    north = distance * math.cos(bearing) / 111_320
    east = distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    inside = (lat + north, lon + east)
    if geo.haversine_m(lat, lon, *inside) > radius_m:
        return  # the flat-earth offset overshot: not a point of the circle
    assert geo.cell_int(*inside, resolution) in geo.disk_cells(
        geo.Point(lat, lon), radius_m, resolution
    )


def test_cells_far_outside_the_circle_are_not_listed() -> None:
    centre = geo.Point(47.6062, -122.3321)
    cells = set(geo.disk_cells(centre, 500, 9))
    assert geo.cell_int(47.6062, -122.3321, 9) in cells
    assert geo.cell_int(47.6262, -122.3321, 9) not in cells  # 2.2 km north
    assert len(cells) < 40
