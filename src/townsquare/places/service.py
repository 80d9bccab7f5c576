"""The one geocoder interface: what the search box and the feeds without points both call.

`search` answers a person typing (ranked suggestions, optionally near a point);
`locate_address` answers a feed ("1800 BLOCK OF N VIRGINIA ST", "3RD AVE / PIKE ST") with one
place or none, never a guess: its `precision` says how exact it is (address, block,
intersection, street, place), so a caller can refuse what is too coarse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from townsquare.errors import TownsquareError
from townsquare.settings import Settings

Kind = Literal["street", "intersection", "place", "address"]
Precision = Literal["address", "block", "intersection", "street", "place"]
ZOOM: dict[str, int] = {"address": 18, "block": 17, "intersection": 17, "street": 16, "place": 16}
SEARCH_LIMIT_MAX = 20


@dataclass(frozen=True)
class Place:
    """A found place: a label, what it is, a point, and the box a map should show."""

    name: str
    kind: Kind
    lat: float
    lon: float
    precision: Precision
    city: str = ""
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north

    @property
    def zoom(self) -> int:
        """The zoom a map should use when it has no box to fit."""
        return ZOOM[self.precision]


class PlacesUnavailable(TownsquareError):
    """The geocoder cannot answer now: no index built, or the remote service is down."""

    status = 503
    title = "Place search unavailable"


class Geocoder(Protocol):
    """Finds places by name; both backends implement it."""

    def search(
        self, query: str, near: tuple[float, float] | None = None, limit: int = 8
    ) -> list[Place]:
        """Places matching what a person typed, best first, nearer ones first when `near`."""
        ...

    def locate_address(self, text: str, city_hint: str | None = None) -> Place | None:
        """The one place a published address stands for, or None when it cannot be placed."""
        ...


def index_path(settings: Settings) -> Path:
    """Where the place index of this deployment lives."""
    return settings.places_index or settings.data_dir / "places.sqlite"


def geocoder_for(settings: Settings) -> Geocoder:
    """The configured backend: a Photon/Nominatim URL when set, else the local index."""
    if settings.geocoder_url:
        from townsquare.places.remote import RemoteGeocoder

        return RemoteGeocoder(
            settings.geocoder_url, settings.geocoder_api, settings.geocoder_timeout_s
        )
    from townsquare.places.local import LocalGeocoder

    return LocalGeocoder(index_path(settings))
