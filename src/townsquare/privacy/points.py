"""Public points: snapped to an H3 cell centre; residents' posts displaced first, per home.

A post's exact point is private. Its public point is the exact point moved by two planar
Laplace displacements (geo-indistinguishability, Andrés et al. 2013), then snapped:

- a *home* displacement, drawn from a generator seeded by the author's home key, so it is
  the same for every post of that home. Averaging many posts converges on home + this
  displacement, not on the home: the mean stays, by default, a median 400 m away.
- a *post* displacement, fresh for each post, so two posts from the same spot do not
  publish the same point and a single post does not reveal the home displacement exactly.

The radius of a planar Laplace draw with parameter ε follows Gamma(2, 1/ε); its median is
about 1.678/ε, so a policy states the median in metres and ε is derived from it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random

from townsquare import geo

LAPLACE_MEDIAN_FACTOR = 1.6783469900166608
"""Median of Gamma(2, 1): the median radius of a planar Laplace draw with ε = 1."""


def public_point(point: geo.Point, resolution: int = geo.PUBLIC_RESOLUTION) -> geo.Point:
    """The public form of a dispatch point: its cell centre at `resolution` (9 or coarser)."""
    return geo.coarsen(point, resolution)


def home_key(secret: bytes, home: str) -> bytes:
    """A per-home seed: HMAC-SHA-256 of an identifier of the home under a server secret."""
    return hmac.new(secret, home.encode("utf-8"), hashlib.sha256).digest()


def laplace_offset(rng: random.Random, median_m: float) -> tuple[float, float]:
    """One planar Laplace displacement (east, north) in metres whose radius has `median_m`."""
    if median_m <= 0:
        return 0.0, 0.0
    epsilon = LAPLACE_MEDIAN_FACTOR / median_m
    radius = rng.gammavariate(2.0, 1.0 / epsilon)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    return radius * math.cos(angle), radius * math.sin(angle)


def displaced(point: geo.Point, east_m: float, north_m: float) -> geo.Point:
    """`point` moved by a small displacement in metres (local flat-earth approximation)."""
    lat = point.lat + math.degrees(north_m / geo.EARTH_RADIUS_M)
    lat = max(-89.9, min(89.9, lat))
    scale = geo.EARTH_RADIUS_M * math.cos(math.radians(lat))
    lon = (point.lon + math.degrees(east_m / scale) + 540.0) % 360.0 - 180.0
    return geo.Point(lat, lon)


def post_point(
    point: geo.Point,
    key: bytes,
    *,
    home_median_m: float,
    post_median_m: float,
    rng: random.Random | None = None,
    resolution: int = geo.PUBLIC_RESOLUTION,
) -> geo.Point:
    """The public point of a resident's post at `point` by the home with seed `key`."""
    # Deterministic by design: the same home must draw the same displacement every time.
    # The seed is a keyed HMAC, so it cannot be guessed from the home alone.
    home_east, home_north = laplace_offset(random.Random(key), home_median_m)  # noqa: S311
    post_east, post_north = laplace_offset(rng or random.SystemRandom(), post_median_m)
    moved = displaced(point, home_east + post_east, home_north + post_north)
    return geo.coarsen(moved, resolution)
