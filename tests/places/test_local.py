"""The offline geocoder over the real OpenStreetMap samples of Seattle, San Francisco, Portland."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.places import metres
from townsquare.places.local import LocalGeocoder

CORNERS = [
    ("3rd Ave & Pike St", (47.6097652, -122.3378196), "Seattle"),
    ("NE 45th St & Roosevelt Way NE", (47.6613025, -122.317563), "Seattle"),
    ("Market St & Van Ness Ave", (37.775026, -122.4193403), "San Francisco"),
    ("SW Broadway & SW Morrison St", (45.5193574, -122.6796145), "Portland"),
]


@pytest.fixture(scope="module")
def geocoder(place_index: Path) -> LocalGeocoder:
    return LocalGeocoder(place_index)


@pytest.mark.parametrize(("query", "point", "city"), CORNERS)
def test_a_corner_is_the_first_suggestion(
    geocoder: LocalGeocoder, query: str, point: tuple[float, float], city: str
) -> None:
    first = geocoder.search(query)[0]
    assert first.kind == "intersection"
    assert first.city == city
    assert metres((first.lat, first.lon), point) < 50


@pytest.mark.parametrize(
    "written",
    ["3RD AVE / PIKE ST", "3rd Ave & Pike St", "Pike St and 3rd Avenue", "third av @ pike street"],
)
def test_a_corner_is_found_however_a_feed_writes_it(geocoder: LocalGeocoder, written: str) -> None:
    place = geocoder.locate_address(written, "Seattle")
    assert place is not None
    assert place.precision == "intersection"
    assert metres((place.lat, place.lon), CORNERS[0][1]) < 50


def test_northeast_is_not_north(geocoder: LocalGeocoder) -> None:
    place = geocoder.locate_address("Northeast 45th Street / Roosevelt Way Northeast", "seattle")
    assert place is not None
    assert metres((place.lat, place.lon), CORNERS[1][1]) < 50


def test_the_city_hint_keeps_a_corner_in_its_city(geocoder: LocalGeocoder) -> None:
    assert geocoder.locate_address("3rd Ave & Pike St", "San Francisco") is None


def test_a_hundred_block_lies_between_the_numbers_of_its_street(geocoder: LocalGeocoder) -> None:
    """San Francisco's sample has house numbers: 500 Haight St is placed between them."""
    block = geocoder.locate_address("500 Block of HAIGHT ST", "San Francisco")
    number = geocoder.locate_address("530 Haight Street", "San Francisco")
    assert block is not None
    assert number is not None
    assert (block.precision, number.precision) == ("block", "address")
    assert metres((block.lat, block.lon), (number.lat, number.lon)) < 150


def test_a_block_on_a_street_without_numbers_is_the_street(geocoder: LocalGeocoder) -> None:
    place = geocoder.locate_address("1800 BLOCK OF N VIRGINIA ST", "Portland")
    assert place is None  # central Portland has no N Virginia St: no guess
    street = geocoder.locate_address("1200 BLOCK OF SW MORRISON ST", "Portland")
    assert street is not None
    assert (street.kind, street.precision) == ("street", "street")
    assert street.bbox is not None


def test_typing_a_prefix_suggests_streets_and_places(geocoder: LocalGeocoder) -> None:
    names = [place.name for place in geocoder.search("Haight-Ash")]
    assert "Haight-Ashbury" in names
    assert geocoder.search("3rd Aven")[0].name == "3rd Avenue"


def test_nearer_answers_come_first(geocoder: LocalGeocoder) -> None:
    near_sf = geocoder.search("market st", near=(37.7749, -122.4194))[0]
    near_seattle = geocoder.search("market st", near=(47.668, -122.38))[0]
    assert near_sf.city == "San Francisco"
    assert near_seattle.city == "Seattle"
    assert near_seattle.name == "Northwest Market Street"


def test_nothing_is_found_for_nothing(geocoder: LocalGeocoder) -> None:
    assert geocoder.search("zzzqqq") == []
    assert geocoder.search('"*)(') == []
    assert all(p.name for p in geocoder.search('" OR 1=1 --'))
    assert geocoder.locate_address("", None) is None
