"""Public points: dispatch points snap to cells; residents' posts cannot be averaged back home."""

from __future__ import annotations

import math
import random
import statistics

import h3
import pytest

from townsquare import geo
from townsquare.privacy import points
from townsquare.privacy.policy import default_policy

SECRET = b"test deployment secret"


def _mean_distance_m(home: geo.Point, key: bytes, rng: random.Random, home_median: float) -> float:
    """Distance from the home to the mean of the public points of 100 posts made there."""
    rules = default_policy().point
    public = [
        points.post_point(
            home,
            key,
            home_median_m=home_median,
            post_median_m=rules.post_median_m,
            rng=rng,
        )
        for _ in range(100)
    ]
    mean_lat = statistics.fmean(p.lat for p in public)
    mean_lon = statistics.fmean(p.lon for p in public)
    return geo.haversine_m(home.lat, home.lon, mean_lat, mean_lon)


def _homes(seed: int) -> list[tuple[geo.Point, bytes]]:
    rng = random.Random(seed)
    return [
        (
            geo.Point(47.55 + rng.random() * 0.15, -122.40 + rng.random() * 0.12),
            points.home_key(SECRET, f"user-{seed}-{n}"),
        )
        for n in range(50)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_averaging_100_posts_from_one_home_stays_200_m_away(seed: int) -> None:
    rng = random.Random(seed * 1000)
    median_home = default_policy().point.post_home_median_m
    distances = [_mean_distance_m(home, key, rng, median_home) for home, key in _homes(seed)]
    assert statistics.median(distances) >= 200, sorted(distances)


def test_without_the_per_home_displacement_the_average_finds_the_home() -> None:
    # The control: fresh noise alone averages out, which is why the home displacement exists.
    rng = random.Random(9)
    distances = [_mean_distance_m(home, key, rng, 0.0) for home, key in _homes(9)]
    assert statistics.median(distances) < 120


def test_a_post_point_is_a_cell_centre_and_each_home_has_its_own_displacement() -> None:
    home = geo.Point(47.6205, -122.3493)
    rng = random.Random(5)
    key = points.home_key(SECRET, "alice")
    public = points.post_point(home, key, home_median_m=400, post_median_m=0, rng=rng)
    again = points.post_point(home, key, home_median_m=400, post_median_m=0, rng=rng)
    other = points.post_point(
        home, points.home_key(b"another secret", "alice"), home_median_m=400, post_median_m=0
    )
    assert public == again  # the same home always moves the same way
    assert public != other  # and that way depends on the server's secret
    cell = h3.latlng_to_cell(public.lat, public.lon, geo.PUBLIC_RESOLUTION)
    assert tuple(round(c, 6) for c in h3.cell_to_latlng(cell)) == (public.lat, public.lon)


def test_laplace_radius_has_the_median_the_policy_states() -> None:
    rng = random.Random(4)
    radii = [math.hypot(*points.laplace_offset(rng, 400.0)) for _ in range(20_000)]
    assert 380 < statistics.median(radii) < 420


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(math.nan, -122.3), (47.6, math.nan), (91.0, -122.3), (47.6, 181.0), (math.inf, 0.0)],
)
def test_bad_coordinates_cannot_become_public_points(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        points.public_point(geo.Point(lat, lon))


def test_points_near_the_poles_and_the_antimeridian_stay_valid() -> None:
    rng = random.Random(3)
    for home in (geo.Point(89.99, 10.0), geo.Point(-33.0, 179.999), geo.Point(0.5, -179.999)):
        public = points.post_point(
            home, points.home_key(SECRET, "edge"), home_median_m=400, post_median_m=100, rng=rng
        )
        assert -90 <= public.lat <= 90
        assert -180 <= public.lon <= 180
