"""The in-memory feed index answers exactly what a brute-force filter over the same items does."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townsquare import geo
from townsquare.incidents import index as index_module
from townsquare.incidents.index import FeedIndex, IndexItem, haversine_m

CATEGORIES = ["fire.structure", "fire.vehicle", "crime", "crime.burglary", "crimes.x", "medical"]
FILTERS = [None, "fire", "crime", "crime.burglary", "crimes", "medical", "nothing"]
M_PER_DEG = math.pi * geo.EARTH_RADIUS_M / 180.0
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Bound = tuple[float, int]


def brute(
    items: list[IndexItem],
    inside: Callable[[IndexItem], bool],
    limit: int,
    *,
    before: Bound | None = None,
    since: float | None = None,
    until: float | None = None,
    category: str | None = None,
) -> list[IndexItem]:
    """What the index must answer, by filtering and sorting every item."""
    out = [
        it
        for it in items
        if inside(it)
        and (since is None or it.occurred_at >= since)
        and (until is None or it.occurred_at < until)
        and (before is None or (it.occurred_at, it.id) < before)
        and (category is None or it.category == category or it.category.startswith(category + "."))
    ]
    out.sort(key=lambda it: (it.occurred_at, it.id), reverse=True)
    return out[:limit]


def within(lat: float, lon: float, radius_m: float) -> Callable[[IndexItem], bool]:
    """The circle test the index promises: haversine distance <= radius."""
    return lambda it: haversine_m(lat, lon, it.lat, it.lon) <= radius_m


def in_box(west: float, south: float, east: float, north: float) -> Callable[[IndexItem], bool]:
    """The box test the index promises: edges included."""
    return lambda it: south <= it.lat <= north and west <= it.lon <= east


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point moved by metres, kept inside WGS 84 (longitude wraps)."""
    lat2 = max(-90.0, min(90.0, lat + north_m / M_PER_DEG))
    lon2 = lon + east_m / M_PER_DEG / max(0.01, math.cos(math.radians(lat2)))
    return lat2, (lon2 + 180.0) % 360.0 - 180.0


def destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point `metres` away from (lat, lon) along the great circle at `bearing` radians."""
    p1, d = math.radians(lat), metres / geo.EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    y = math.sin(bearing) * math.sin(d) * math.cos(p1)
    lon2 = lon + math.degrees(math.atan2(y, math.cos(d) - math.sin(p1) * math.sin(p2)))
    return math.degrees(p2), (lon2 + 180.0) % 360.0 - 180.0


@st.composite
def scenes(draw: st.DrawFn, max_items: int = 250) -> list[IndexItem]:
    """Items in a few clusters of varied spread around one place; times often tie, points are
    often coarsened the way published points are (many items then share a point)."""
    lat = draw(st.floats(-85.0, 85.0))
    lon = draw(st.floats(-180.0, 180.0))
    rng = random.Random(draw(st.integers(0, 2**32)))
    spreads = [draw(st.sampled_from([30.0, 300.0, 3_000.0, 30_000.0])) for _ in range(3)]
    cores = [offset(lat, lon, rng.uniform(-2e4, 2e4), rng.uniform(-2e4, 2e4)) for _ in spreads]
    n = draw(st.integers(0, max_items))
    coarse_time, coarsened = draw(st.booleans()), draw(st.booleans())
    items = []
    for i, incident_id in enumerate(rng.sample(range(1, 10**12), n)):
        (clat, clon), spread = cores[i % 3], spreads[i % 3]
        plat, plon = offset(clat, clon, rng.gauss(0, spread), rng.gauss(0, spread))
        if coarsened:
            public = geo.coarsen(geo.Point(plat, plon))
            plat, plon = public.lat, public.lon
        t = float(rng.randrange(50)) if coarse_time else rng.uniform(0.0, 1e6)
        items.append(IndexItem(incident_id, plat, plon, t, rng.choice(CATEGORIES)))
    return items


@st.composite
def circles(draw: st.DrawFn, items: list[IndexItem]) -> tuple[float, float, float]:
    """A query centre near an item (or anywhere if none) and a radius from 10 m to 50 km."""
    if items:
        near = draw(st.sampled_from(items))
        lat, lon = offset(
            near.lat, near.lon, draw(st.floats(-3e3, 3e3)), draw(st.floats(-3e3, 3e3))
        )
    else:
        lat, lon = draw(st.floats(-90.0, 90.0)), draw(st.floats(-180.0, 180.0))
    return lat, lon, 10.0 ** draw(st.floats(1.0, math.log10(50_000.0)))


@dataclass(frozen=True)
class Filters:
    """Optional since / until / category of one query."""

    since: float | None
    until: float | None
    category: str | None


@st.composite
def filters(draw: st.DrawFn, items: list[IndexItem]) -> Filters:
    """Filters whose time bounds are often exactly an item's time."""
    times = st.floats(0.0, 1e6) | st.sampled_from([it.occurred_at for it in items] or [0.0])
    return Filters(draw(st.none() | times), draw(st.none() | times), draw(st.sampled_from(FILTERS)))


def built(items: list[IndexItem], scan_below: int) -> FeedIndex:
    """An index in bulk; `scan_below` 0 forces the grid, a huge one the scan in feed order."""
    index = FeedIndex.build(items)
    index.scan_below = scan_below
    return index


@FAST
@given(st.data())
def test_circle_query_equals_brute_force(data: st.DataObject) -> None:
    items = data.draw(scenes())
    index = built(items, data.draw(st.sampled_from([0, 64, 10**9])))
    for _ in range(4):
        lat, lon, radius = data.draw(circles(items))
        limit = data.draw(st.integers(0, 60))
        f = data.draw(filters(items))
        got = index.query(
            lat, lon, radius, limit, since=f.since, until=f.until, category=f.category
        )
        want = brute(items, within(lat, lon, radius), limit, **vars(f))
        assert got == want


@FAST
@given(st.data())
def test_keyset_pages_visit_each_item_once(data: st.DataObject) -> None:
    items = data.draw(scenes())
    index = built(items, data.draw(st.sampled_from([0, 10**9])))
    lat, lon, radius = data.draw(circles(items))
    limit = data.draw(st.integers(1, 7))
    f = data.draw(filters(items))
    pages: list[IndexItem] = []
    before: Bound | None = None
    while page := index.query(
        lat, lon, radius, limit, before=before, since=f.since, until=f.until, category=f.category
    ):
        assert len(page) <= limit
        pages += page
        before = (page[-1].occurred_at, page[-1].id)
    assert pages == brute(items, within(lat, lon, radius), len(items), **vars(f))
    assert len({it.id for it in pages}) == len(pages)


@FAST
@given(st.data())
def test_bbox_query_equals_brute_force(data: st.DataObject) -> None:
    items = data.draw(scenes())
    index = built(items, data.draw(st.sampled_from([0, 64, 10**9])))
    for _ in range(4):
        on_items = data.draw(st.booleans())
        if items and on_items:  # edges exactly on items: edges count as inside
            a, b = data.draw(st.sampled_from(items)), data.draw(st.sampled_from(items))
            south, north = sorted((a.lat, b.lat))
            west, east = sorted((a.lon, b.lon))
        else:
            lat, lon, half = data.draw(circles(items))
            south, west = offset(lat, lon, -half, -half * data.draw(st.floats(0.2, 3.0)))
            north, east = offset(lat, lon, half, half)
        if not geo.bbox_is_valid(west, south, east, north):
            continue
        limit = data.draw(st.integers(0, 60))
        f = data.draw(filters(items))
        got = index.query_bbox(
            west, south, east, north, limit, since=f.since, until=f.until, category=f.category
        )
        assert got == brute(items, in_box(west, south, east, north), limit, **vars(f))


@FAST
@given(st.data())
def test_upserts_and_removals_match_a_rebuild(data: st.DataObject) -> None:
    items = data.draw(scenes(max_items=120))
    index = built(items, data.draw(st.sampled_from([0, 10**9])))
    model = {it.id: it for it in items}
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for step in range(data.draw(st.integers(1, 60))):
        if step % 7 == 0 and model:  # queries between writes fill the index's item cache
            probe = model[rng.choice(sorted(model))]
            got = index.query(probe.lat, probe.lon, 60_000.0, 500)
            assert got == brute(list(model.values()), within(probe.lat, probe.lon, 60_000.0), 500)
        if model and rng.random() < 0.3:
            gone = rng.choice(sorted(model))
            index.remove(gone)
            del model[gone]
        elif model and rng.random() < 0.6:  # move an item: new cell, time and category
            old = model[rng.choice(sorted(model))]
            lat, lon = offset(old.lat, old.lon, rng.uniform(-5e4, 5e4), rng.uniform(-5e4, 5e4))
            model[old.id] = IndexItem(old.id, lat, lon, rng.uniform(0, 1e6), rng.choice(CATEGORIES))
            index.upsert(model[old.id])
        else:
            base = rng.choice(items) if items else IndexItem(0, 10.0, 20.0, 0.0, "medical")
            lat, lon = offset(base.lat, base.lon, rng.uniform(-1e3, 1e3), rng.uniform(-1e3, 1e3))
            new = IndexItem(rng.randrange(1, 10**12), lat, lon, float(rng.randrange(50)), "fire")
            model[new.id] = new
            index.upsert(new)
    index.remove(-5)  # absent: no error
    live = list(model.values())
    assert len(index) == len(live)
    assert all(it.id in index for it in live)
    assert -5 not in index
    assert "x" not in index
    rebuilt = FeedIndex.build(live)
    for _ in range(3):
        lat, lon, radius = data.draw(circles(live))
        category = data.draw(st.sampled_from(FILTERS))
        got = index.query(lat, lon, radius, 40, category=category)
        assert got == brute(live, within(lat, lon, radius), 40, category=category)
        assert got == rebuilt.query(lat, lon, radius, 40, category=category)
        # a feed page asks for ids alone, from the base and the recent changes alike
        ranks = index.query_ranks(lat, lon, radius, 40, category=category)
        assert index.ids_of(ranks) == [it.id for it in got]
        box = (
            max(-180.0, lon - 0.3),
            max(-90.0, lat - 0.2),
            min(180.0, lon + 0.3),
            min(90.0, lat + 0.2),
        )
        in_box = index.query_bbox(*box, 40, category=category)
        assert index.ids_of(index.query_bbox_ranks(*box, 40, category=category)) == [
            it.id for it in in_box
        ]


@FAST
@given(
    st.floats(-89.0, 89.0),
    st.floats(-180.0, 180.0),
    st.integers(0, len(index_module.STEPS) - 1),
    st.floats(0.3, 1.0),
    st.sampled_from([0, 10**9]),
)
def test_items_on_the_rim_are_all_found(
    lat: float, lon: float, level: int, share: float, scan_below: int
) -> None:
    # radii up to the top of each level, where the fewest cells cover the circle
    radius = index_module.STEPS[level] * index_module._SPAN * M_PER_DEG * share
    rim = [destination(lat, lon, k * math.pi / 18, radius * (1 - 1e-7)) for k in range(36)]
    items = [IndexItem(k, a, b, float(k), "fire") for k, (a, b) in enumerate(rim, start=1)]
    index = built(items, scan_below)
    assert index.query(lat, lon, radius, 100) == brute(items, within(lat, lon, radius), 100)


@FAST
@given(
    st.floats(-89.0, 89.0),
    st.floats(-180.0, 180.0),
    st.integers(0, len(index_module.STEPS) - 1),
    st.floats(1.5, 5.5),
)
def test_items_in_cell_corners_are_found(
    lat: float, lon: float, level: int, stretch: float
) -> None:
    # an item in a grid cell's corner, seen from outside the cell along the diagonal, with
    # the radius reaching it exactly
    step = index_module.STEPS[level]
    south, west = (
        math.floor((lat + 90) / step) * step - 90,
        math.floor((lon + 180) / step) * step - 180,
    )
    corners = [
        (south, west),
        (south, west + step),
        (south + step, west),
        (south + step, west + step),
    ]
    clat, clon = south + step / 2, west + step / 2
    inner = [(clat + (a - clat) * (1 - 1e-6), clon + (b - clon) * (1 - 1e-6)) for a, b in corners]
    items = [
        IndexItem(k, a, b, float(k), "fire")
        for k, (a, b) in enumerate(inner, start=1)
        if -90 <= a <= 90 and -180 <= b <= 180
    ]
    index = built(items, 0)
    for it in items:
        plat = it.lat + (it.lat - clat) * stretch
        plon = it.lon + (it.lon - clon) * stretch
        if not (-90 <= plat <= 90 and -180 <= plon <= 180):
            continue
        radius = haversine_m(plat, plon, it.lat, it.lon)
        assert it in index.query(plat, plon, radius, 10)


def test_circles_across_the_antimeridian_and_over_a_pole() -> None:
    items = [
        IndexItem(1, 10.0, 179.999, 1.0, "fire"),
        IndexItem(2, 10.0, -179.999, 2.0, "fire"),
        IndexItem(3, 89.99, 0.0, 3.0, "fire"),
        IndexItem(4, 89.99, 180.0, 4.0, "fire"),
        IndexItem(5, -89.999, 90.0, 5.0, "fire"),
    ]
    index = built(items, 0)
    for lat, lon, radius in [
        (10.0, 180.0, 500.0),
        (10.0, -180.0, 500.0),
        (90.0, 45.0, 5_000.0),
        (89.995, -100.0, 2_000.0),
        (-90.0, 0.0, 200.0),
        (0.0, 0.0, 2e7),
    ]:
        assert index.query(lat, lon, radius, 10) == brute(items, within(lat, lon, radius), 10)


def test_the_boundary_is_inclusive_and_exact() -> None:
    item = IndexItem(1, 47.6062, -122.3321, 10.0, "medical")
    index = FeedIndex.build([item])
    for north_m in (0.0, 7.0, 1_234.5, 49_999.0):
        lat, lon = offset(item.lat, item.lon, north_m, north_m / 3)
        exact = haversine_m(lat, lon, item.lat, item.lon)
        assert index.query(lat, lon, exact, 5) == [item]
        if exact > 0:
            assert index.query(lat, lon, math.nextafter(exact, 0.0), 5) == []


def test_a_radius_beyond_every_level_scans_every_cell() -> None:
    rng = random.Random(7)  # one item per res-5 cell, far more cells than a scan would take
    items = [
        IndexItem(i, rng.uniform(30.0, 60.0), rng.uniform(-130.0, -60.0), rng.uniform(0, 9), "fire")
        for i in range(1, 400)
    ]
    index = FeedIndex.build(items)
    for probe in items[:20]:
        for radius in (60_000.0, 300_000.0):
            got = index.query(probe.lat, probe.lon, radius, 50)
            assert got == brute(items, within(probe.lat, probe.lon, radius), 50)
        west, south = probe.lon - 3.0, probe.lat - 2.0
        box = (west, south, west + 6.0, south + 4.0)
        got = index.query_bbox(*box, 50)
        assert got == brute(items, in_box(*box), 50)
    everything = index.query(0.0, 0.0, 20_100_000.0, 1000)
    assert everything == brute(items, lambda it: True, 1000)


def test_build_keeps_the_last_of_a_repeated_id() -> None:
    first = IndexItem(7, 10.0, 10.0, 1.0, "fire")
    last = IndexItem(7, 10.001, 10.0, 2.0, "medical")
    index = FeedIndex.build([first, IndexItem(8, 10.0, 10.0, 1.5, "fire"), last])
    assert len(index) == 2
    assert index.query(10.0, 10.0, 1_000.0, 10) == [last, IndexItem(8, 10.0, 10.0, 1.5, "fire")]


def test_category_prefix_stops_at_a_dot() -> None:
    items = [IndexItem(i, 0.0, 0.0, float(i), c) for i, c in enumerate(CATEGORIES, start=1)]
    index = FeedIndex.build(items)
    crime = index.query(0.0, 0.0, 10.0, 10, category="crime")
    assert [it.category for it in crime] == ["crime.burglary", "crime"]
    assert index.query(0.0, 0.0, 10.0, 10, category="nothing") == []
    assert [it.category for it in index.query_bbox(-1, -1, 1, 1, 10, category="crimes")] == [
        "crimes.x"
    ]


def test_empty_index_and_zero_limit() -> None:
    assert FeedIndex().query(0.0, 0.0, 1_000.0, 10) == []
    assert FeedIndex.build([]).query_bbox(-1.0, -1.0, 1.0, 1.0, 10) == []
    index = FeedIndex.build([IndexItem(1, 0.0, 0.0, 0.0, "fire")])
    assert index.query(0.0, 0.0, 1_000.0, 0) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda ix: ix.query(91.0, 0.0, 10.0, 1),
        lambda ix: ix.query(0.0, 0.0, -1.0, 1),
        lambda ix: ix.query(0.0, 0.0, math.nan, 1),
        lambda ix: ix.query(0.0, 0.0, 10.0, -1),
        lambda ix: ix.query_bbox(1.0, 0.0, -1.0, 1.0, 1),
        lambda ix: ix.upsert(IndexItem(2, math.nan, 0.0, 0.0, "fire")),
        lambda ix: ix.upsert(IndexItem(2, 0.0, 0.0, math.inf, "fire")),
        lambda ix: FeedIndex.build([IndexItem(2, 0.0, 181.0, 0.0, "fire")]),
    ],
)
def test_bad_input_is_refused(call: Callable[[FeedIndex], object]) -> None:
    index = FeedIndex.build([IndexItem(1, 0.0, 0.0, 0.0, "fire")])
    with pytest.raises(ValueError, match=r"range|must"):
        call(index)


def test_haversine_is_the_one_from_geo() -> None:
    assert index_module.haversine_m is geo.haversine_m
