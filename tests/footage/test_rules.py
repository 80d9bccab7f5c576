"""Every bound of a footage request is refused with the field and the rule it broke."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.footage import CENTER, JURISDICTION, request_body
from townsquare.errors import InvalidParameter
from townsquare.footage import area, rules
from townsquare.footage.schemas import FileRequest

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def _square(side_m: float, lat: float = CENTER[0], lon: float = CENTER[1]) -> dict[str, Any]:
    d_lat = math.degrees(side_m / 2 / area.EARTH_RADIUS_M)
    d_lon = d_lat / math.cos(math.radians(lat))
    ring = [
        [lon - d_lon, lat - d_lat],
        [lon + d_lon, lat - d_lat],
        [lon + d_lon, lat + d_lat],
        [lon - d_lon, lat + d_lat],
        [lon - d_lon, lat - d_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


MILE = 1609.344
REFUSED = {
    "area too small": ({"circle": {"lat": 47.61, "lon": -122.33, "radius_m": 100}}, "circle"),
    "area too large": ({"circle": {"lat": 47.61, "lon": -122.33, "radius_m": 1000}}, "circle"),
    "polygon too small": ({"circle": None, "polygon": _square(0.15 * MILE)}, "polygon"),
    "polygon too large": ({"circle": None, "polygon": _square(0.75 * MILE)}, "polygon"),
    "outside the jurisdiction": (
        {"circle": {"lat": 47.70, "lon": -122.33, "radius_m": 300}},
        "circle",
    ),
    "across the jurisdiction's edge": (
        {"circle": {"lat": 47.5905, "lon": -122.33, "radius_m": 300}},
        "circle",
    ),
    "both shapes": ({"polygon": _square(0.3 * MILE)}, "area"),
    "no shape": ({"circle": None}, "area"),
    "polygon that folds": (
        {
            "circle": None,
            "polygon": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-122.335, 47.605],
                        [-122.325, 47.615],
                        [-122.325, 47.605],
                        [-122.335, 47.615],
                        [-122.335, 47.605],
                    ]
                ],
            },
        },
        "polygon",
    ),
    "not a polygon": (
        {"circle": None, "polygon": {"type": "Point", "coordinates": [1, 2]}},
        "polygon",
    ),
    "window too short": (
        {"window_start": _iso(-HOUR), "window_end": _iso(-HOUR * 0.8)},
        "window_end",
    ),
    "window too long": (
        {"window_start": _iso(-HOUR * 14), "window_end": _iso(-HOUR)},
        "window_end",
    ),
    "window backwards": (
        {"window_start": _iso(-HOUR), "window_end": _iso(-HOUR * 2)},
        "window_end",
    ),
    "window not over": ({"window_start": _iso(-HOUR), "window_end": _iso(HOUR)}, "window_end"),
    "window too old": (
        {"window_start": _iso(-timedelta(days=31)), "window_end": _iso(-timedelta(days=30.9))},
        "window_start",
    ),
    "expiry passed": ({"expires_at": _iso(-HOUR)}, "expires_at"),
    "expiry too far": ({"expires_at": _iso(timedelta(days=15))}, "expires_at"),
}
RULE_WORDS = {
    "circle": "square miles|jurisdiction",
    "polygon": "square miles|GeoJSON Polygon|cross",
    "area": "exactly one",
    "window_end": "15 minutes|12 hours|after it starts|in the past",
    "window_start": "30 days",
    "expires_at": "future|14 days",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_each_bound_is_refused_with_its_field_and_rule(case: str) -> None:
    changes, field = REFUSED[case]
    body = FileRequest.model_validate(request_body(NOW, **changes))
    with pytest.raises(InvalidParameter, match=RULE_WORDS[field]) as refused:
        rules.check_request(body, json.dumps(JURISDICTION), NOW)
    assert refused.value.parameter == field


def test_a_request_inside_every_bound_passes() -> None:
    body = FileRequest.model_validate(request_body(NOW))
    checked = rules.check_request(body, json.dumps(JURISDICTION), NOW)
    assert checked.kind == "circle"
    assert checked.area_m2 / area.SQUARE_MILE_M2 == pytest.approx(0.109, abs=0.001)
    edges = {
        "window 15 min": {"window_start": _iso(-HOUR * 1.25), "window_end": _iso(-HOUR)},
        "window 12 h": {"window_start": _iso(-HOUR * 13), "window_end": _iso(-HOUR)},
        "expiry 14 d": {"expires_at": _iso(timedelta(days=14))},
        "polygon": {"circle": None, "polygon": _square(0.5 * MILE)},
    }
    for label, changes in edges.items():
        body = FileRequest.model_validate(request_body(NOW, **changes))
        assert rules.check_request(body, json.dumps(JURISDICTION), NOW), label


def test_an_agency_without_a_jurisdiction_cannot_file() -> None:
    body = FileRequest.model_validate(request_body(NOW))
    with pytest.raises(InvalidParameter, match="no jurisdiction") as refused:
        rules.check_request(body, None, NOW)
    assert refused.value.parameter == "area"


def test_areas_are_measured_on_the_ground() -> None:
    # A quarter square mile at Seattle's latitude, and a circle against pi r squared.
    quarter = area.polygons_of(_square(0.5 * MILE))[0][0]
    assert area.area_m2(quarter) / area.SQUARE_MILE_M2 == pytest.approx(0.25, rel=0.002)
    ring = area.circle(47.61, -122.33, 400)
    assert area.area_m2(ring) == pytest.approx(math.pi * 400**2, rel=0.005)


def test_a_multipolygon_jurisdiction_with_a_hole() -> None:
    outer = JURISDICTION["coordinates"][0]
    hole = [
        [-122.34, 47.60],
        [-122.32, 47.60],
        [-122.32, 47.62],
        [-122.34, 47.62],
        [-122.34, 47.60],
    ]
    zone = {"type": "MultiPolygon", "coordinates": [[outer, hole]]}
    body = FileRequest.model_validate(request_body(NOW))
    with pytest.raises(InvalidParameter, match="jurisdiction"):
        rules.check_request(body, json.dumps(zone), NOW)
    moved = {"circle": {"lat": 47.595, "lon": -122.35, "radius_m": 300}}
    body = FileRequest.model_validate(request_body(NOW, **moved))
    assert rules.check_request(body, json.dumps(zone), NOW).kind == "circle"
