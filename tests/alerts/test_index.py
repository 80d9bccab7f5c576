"""The geofence index answers exactly what testing every area by brute force answers."""

from __future__ import annotations

import random

import h3
from hypothesis import given, settings
from hypothesis import strategies as st

from townsquare import geo
from townsquare.alerts.index import (
    CHILD_OFFSET_FACTOR,
    CIRCUMRADIUS_FACTOR,
    EDGE_M,
    CircleArea,
    GeofenceIndex,
    PolygonArea,
    cover,
)

CENTER = (47.61, -122.33)


def random_areas(rng: random.Random, n: int) -> dict[int, CircleArea | PolygonArea]:
    areas: dict[int, CircleArea | PolygonArea] = {}
    for i in range(n):
        lat = CENTER[0] + rng.uniform(-0.05, 0.05)
        lon = CENTER[1] + rng.uniform(-0.07, 0.07)
        if i % 5 == 4:
            w, h = rng.uniform(0.002, 0.03), rng.uniform(0.002, 0.03)
            ring = ((lon, lat), (lon + w, lat), (lon + w / 2, lat + h), (lon, lat))
            areas[i] = PolygonArea((ring,))
        else:
            areas[i] = CircleArea(lat, lon, rng.uniform(100, 10_000))
    return areas


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_matches_equal_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    areas = random_areas(rng, 60)
    index = GeofenceIndex.build((i, a, None) for i, a in areas.items())
    for _ in range(200):
        lat = CENTER[0] + rng.uniform(-0.1, 0.1)
        lon = CENTER[1] + rng.uniform(-0.12, 0.12)
        expected = sorted(i for i, a in areas.items() if a.contains(lat, lon))
        assert sorted(index.match(lat, lon)) == expected


def test_points_on_the_circle_edge_are_decided_exactly() -> None:
    area = CircleArea(CENTER[0], CENTER[1], 1000)
    index = GeofenceIndex.build([(1, area, None)])
    for bearing in range(0, 360, 7):
        for metres, inside in ((999.0, True), (1001.0, False)):
            lat, lon = _destination(CENTER, bearing, metres)
            assert (index.match(lat, lon) == [1]) is inside


def test_removed_and_replaced_areas_stop_matching() -> None:
    index = GeofenceIndex()
    index.add(1, CircleArea(CENTER[0], CENTER[1], 500))
    index.add(1, CircleArea(CENTER[0] + 0.1, CENTER[1], 500))  # moved
    assert index.match(*CENTER) == []
    assert index.match(CENTER[0] + 0.1, CENTER[1]) == [1]
    index.remove(1)
    index.remove(1)  # repeated events are harmless
    assert index.match(CENTER[0] + 0.1, CENTER[1]) == []
    assert len(index) == 0


def test_cover_uses_few_cells_and_inside_cells_need_no_test() -> None:
    for radius in (100, 500, 2000, 10_000):
        found = cover(CircleArea(CENTER[0], CENTER[1], radius))
        # fine edge cells (radius / 16) keep exact tests few; the cells per area are the price
        assert len(found.inside) + len(found.edge) <= 400
        for cell in found.inside:
            for lat, lon in h3.cell_to_boundary(h3.int_to_str(cell)):
                assert geo.haversine_m(CENTER[0], CENTER[1], lat, lon) <= radius


def test_the_circumradius_bound_holds_across_the_globe() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        res = rng.choice(range(5, 12))
        lat, lon = rng.uniform(-85, 85), rng.uniform(-180, 180)
        cell = h3.latlng_to_cell(lat, lon, res)
        clat, clon = h3.cell_to_latlng(cell)
        far = max(geo.haversine_m(clat, clon, a, b) for a, b in h3.cell_to_boundary(cell))
        assert far <= CIRCUMRADIUS_FACTOR * EDGE_M[res]


def _destination(
    start: tuple[float, float], bearing_deg: float, metres: float
) -> tuple[float, float]:
    import math

    lat1, lon1 = math.radians(start[0]), math.radians(start[1])
    b, d = math.radians(bearing_deg), metres / geo.EARTH_RADIUS_M
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    return math.degrees(lat2), math.degrees(lon2)


def test_areas_built_in_bulk_can_be_replaced_and_removed() -> None:
    areas = random_areas(random.Random(3), 40)
    index = GeofenceIndex.build((i, a, None) for i, a in areas.items())
    index.add(0, CircleArea(CENTER[0] + 1.0, CENTER[1], 300))  # moved far away
    index.remove(1)
    rng = random.Random(4)
    for _ in range(200):
        lat = CENTER[0] + rng.uniform(-0.1, 0.1)
        lon = CENTER[1] + rng.uniform(-0.12, 0.12)
        expected = sorted(i for i, a in areas.items() if i > 1 and a.contains(lat, lon))
        assert sorted(index.match(lat, lon)) == expected
    assert index.match(CENTER[0] + 1.0, CENTER[1]) == [0]
    assert index.cells_of(1) is None
    assert index.cells_of(2) is not None


def test_the_descent_bound_holds_for_logical_children() -> None:
    rng = random.Random(6)
    for _ in range(500):
        res = rng.choice(range(0, 14))
        lat, lon = rng.uniform(-85, 85), rng.uniform(-180, 180)
        parent = h3.latlng_to_cell(lat, lon, res)
        plat, plon = h3.cell_to_latlng(parent)
        for child in h3.cell_to_children(parent, res + 1):
            clat, clon = h3.cell_to_latlng(child)
            assert geo.haversine_m(plat, plon, clat, clon) <= CHILD_OFFSET_FACTOR * EDGE_M[res]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_areas_added_moved_and_removed_in_any_order_match_as_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    areas = random_areas(rng, 30)
    # a tiny merge floor: the cells added after the build are merged into the table often
    index = GeofenceIndex.build(((i, a, None) for i, a in areas.items() if i % 2), merge_floor=20)
    live = {i: a for i, a in areas.items() if i % 2}
    for step in range(120):
        i = rng.randrange(40)
        if rng.random() < 0.3:
            index.remove(i)
            live.pop(i, None)
        else:
            area = random_areas(rng, 1)[0]
            index.add(i, area)
            live[i] = area
        if step % 10 == 0:
            lat = CENTER[0] + rng.uniform(-0.1, 0.1)
            lon = CENTER[1] + rng.uniform(-0.12, 0.12)
            expected = sorted(k for k, a in live.items() if a.contains(lat, lon))
            assert sorted(index.match(lat, lon)) == expected
    assert len(index) == len(live)
    assert all(index.cells_of(k) is not None for k in live)


def test_stored_covers_loaded_as_rows_match_as_their_cells_say() -> None:
    import numpy as np

    from townsquare.alerts import cells

    rng = random.Random(8)
    areas = {}
    for i in range(40):
        lat, lon = CENTER[0] + rng.uniform(-0.05, 0.05), CENTER[1] + rng.uniform(-0.07, 0.07)
        areas[i * 3] = cells.cell_area(cells.circle_cells(lat, lon, rng.uniform(200, 4000)))
    rows = [(i, c) for i, a in areas.items() for c in a.cells]
    index = GeofenceIndex.from_cells(
        np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64)
    )
    index.remove(0)
    for _ in range(300):
        lat, lon = CENTER[0] + rng.uniform(-0.08, 0.08), CENTER[1] + rng.uniform(-0.1, 0.1)
        expected = sorted(i for i, a in areas.items() if i and a.contains(lat, lon))
        assert sorted(index.match(lat, lon)) == expected
    assert len(index) == 39
