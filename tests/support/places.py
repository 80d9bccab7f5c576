"""The place index of the bundled OpenStreetMap samples, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.geo import haversine_m
from townsquare.places import index
from townsquare.places.cli import sample_cities


@pytest.fixture(scope="session")
def place_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of the three sample cities (Seattle, San Francisco, Portland)."""
    path = tmp_path_factory.mktemp("places") / "places.sqlite"
    index.build(path, sample_cities())
    return path


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lat, lon) points, metres."""
    return haversine_m(a[0], a[1], b[0], b[1])
