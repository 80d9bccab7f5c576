"""The remote geocoder: a Photon or Nominatim server the deployment runs (or trusts).

Each query goes to that server, which is the privacy trade-off an operator accepts by setting
TOWNSQUARE_GEOCODER_URL. The request is sent through the transport directly, not a client,
because httpx's client logs every URL at INFO, and a URL here carries what a person typed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from townsquare.places.normalize import parse_address
from townsquare.places.service import Kind, Place, PlacesUnavailable, Precision

PHOTON_KINDS: dict[str, tuple[Kind, Precision]] = {
    "house": ("address", "address"),
    "building": ("address", "address"),
    "street": ("street", "street"),
}


def _label(properties: dict[str, Any]) -> str:
    """A Photon feature's label: its name, or its number and street."""
    street = " ".join(str(properties.get(k) or "") for k in ("housenumber", "street")).strip()
    return str(properties.get("name") or street or properties.get("city") or "")


def _photon(answer: Any) -> list[Place]:
    """Places of a Photon GeoJSON answer."""
    places = []
    for feature in answer.get("features", []):
        lon, lat = feature["geometry"]["coordinates"][:2]
        properties = feature.get("properties", {})
        kind, precision = PHOTON_KINDS.get(properties.get("type", ""), ("place", "place"))
        extent = properties.get("extent")  # [west, north, east, south]
        bbox = (extent[0], extent[3], extent[2], extent[1]) if extent else None
        city = str(properties.get("city") or "")
        places.append(Place(_label(properties), kind, lat, lon, precision, city, bbox))
    return places


def _nominatim(answer: Any) -> list[Place]:
    """Places of a Nominatim `jsonv2` answer."""
    places = []
    for item in answer:
        south, north, west, east = (float(v) for v in item["boundingbox"])
        kind, precision = PHOTON_KINDS.get(
            "street" if item.get("addresstype") == "road" else item.get("addresstype", ""),
            ("place", "place"),
        )
        name = str(item.get("name") or item.get("display_name", ""))
        lat, lon = float(item["lat"]), float(item["lon"])
        places.append(Place(name, kind, lat, lon, precision, "", (west, south, east, north)))
    return places


class RemoteGeocoder:
    """The `Geocoder` over a Photon or Nominatim URL."""

    def __init__(self, url: str, api: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.api = api
        self.timeout = httpx.Timeout(timeout_s)

    def _get(self, path: str, params: dict[str, str]) -> Any:
        """One GET answered as JSON; any failure is PlacesUnavailable, the query not logged."""
        request = httpx.Request(
            "GET", self.url + path, params=params, headers={"Accept": "application/json"}
        )
        request.extensions["timeout"] = self.timeout.as_dict()
        try:
            with httpx.HTTPTransport() as transport:
                response = transport.handle_request(request)
                body = response.read()
        except httpx.HTTPError as exc:
            raise PlacesUnavailable(f"the geocoder did not answer ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise PlacesUnavailable(f"the geocoder answered {response.status_code}")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise PlacesUnavailable("the geocoder's answer is not JSON") from exc

    def search(
        self, query: str, near: tuple[float, float] | None = None, limit: int = 8
    ) -> list[Place]:
        """Places matching what a person typed (see `Geocoder`)."""
        if self.api == "nominatim":
            params = {"q": query, "format": "jsonv2", "limit": str(limit)}
            return _nominatim(self._get("/search", params))[:limit]
        params = {"q": query, "limit": str(limit)}
        if near is not None:
            params |= {"lat": f"{near[0]:.5f}", "lon": f"{near[1]:.5f}"}
        return _photon(self._get("/api", params))[:limit]

    def locate_address(self, text: str, city_hint: str | None = None) -> Place | None:
        """The place of a published address: a block is asked as its middle number."""
        address = parse_address(text)
        if address is None:
            return None
        if len(address.streets) == 2:
            query = " & ".join(address.streets)
        elif address.number is not None:
            number = address.number + 50 if address.block else address.number
            query = f"{number} {address.streets[0]}"
        else:
            query = address.streets[0]
        found = self.search(f"{query}, {city_hint}" if city_hint else query, limit=1)
        if not found:
            return None
        place = found[0]
        if address.block and place.precision == "address":
            return dataclasses.replace(place, precision="block")
        if len(address.streets) == 2 and place.kind == "street":
            return None  # a corner answered by one street is not the corner
        return place
