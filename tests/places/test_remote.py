"""The remote backend against a real HTTP server answering as Photon and Nominatim answer.

Photon itself cannot run here; this server speaks its GeoJSON (and Nominatim's jsonv2) for a
few real Seattle features, so the request, the parsing and the failures are all real HTTP.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.server import free_port
from townsquare.places.remote import RemoteGeocoder
from townsquare.places.service import PlacesUnavailable, geocoder_for
from townsquare.settings import Settings

FEATURES = [
    {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-122.3378196, 47.6097652]},
        "properties": {
            "osm_key": "highway",
            "osm_value": "crossing",
            "type": "other",
            "name": "3rd Avenue & Pike Street",
            "city": "Seattle",
        },
    },
    {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-122.33391, 47.61139]},
        "properties": {
            "osm_key": "highway",
            "osm_value": "secondary",
            "type": "street",
            "name": "Pike Street",
            "city": "Seattle",
            "extent": [-122.3405, 47.6186, -122.3045, 47.6087],
        },
    },
    {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-122.3371, 47.6101]},
        "properties": {
            "osm_key": "building",
            "osm_value": "yes",
            "type": "house",
            "housenumber": "1550",
            "street": "3rd Avenue",
            "city": "Seattle",
        },
    },
]


ADDRESS_TYPES = {"street": "road", "house": "building"}


def _words(feature: dict[str, dict[str, object]]) -> str:
    """What a query matches in a feature: its name, number and street."""
    properties = feature["properties"]
    return " ".join(str(properties.get(k, "")) for k in ("name", "housenumber", "street")).lower()


class Photon(BaseHTTPRequestHandler):
    """`/api` as Photon answers it, `/search` as Nominatim does; `/down` paths fail."""

    asked: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        Photon.asked.append(query)
        first = query["q"][0].lower().split()[0]
        chosen = [f for f in FEATURES if first in _words(f)]
        if url.path.startswith("/down"):
            self.send_error(502)
            return
        if url.path == "/api":
            body: object = {"type": "FeatureCollection", "features": chosen}
        elif url.path == "/search":
            body = [
                {
                    "lat": str(f["geometry"]["coordinates"][1]),
                    "lon": str(f["geometry"]["coordinates"][0]),
                    "name": f["properties"].get("name", ""),
                    "category": f["properties"]["osm_key"],
                    "addresstype": ADDRESS_TYPES.get(f["properties"]["type"], "crossing"),
                    "boundingbox": ["47.60", "47.62", "-122.35", "-122.30"],
                }
                for f in chosen
            ]
        else:
            self.send_error(502)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test server's own access log is not the app's."""


@pytest.fixture(scope="module")
def photon() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Photon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_setting_chooses_the_remote_backend(photon: str) -> None:
    settings = Settings(geocoder_url=photon + "/", geocoder_api="photon")
    places = geocoder_for(settings).search("pike street", near=(47.61, -122.33))
    assert [p.name for p in places] == ["3rd Avenue & Pike Street", "Pike Street"]
    street = places[1]
    assert (street.kind, street.bbox) == ("street", (-122.3405, 47.6087, -122.3045, 47.6186))
    assert Photon.asked[-1]["lat"] == ["47.61000"]


def test_a_feed_address_is_asked_as_its_middle_number(photon: str) -> None:
    place = RemoteGeocoder(photon, "photon", 3).locate_address("1500 BLOCK OF 3RD AVE", "Seattle")
    assert Photon.asked[-1]["q"] == ["1550 3RD AVE, Seattle"]
    assert place is not None
    assert (place.name, place.kind, place.precision) == ("1550 3rd Avenue", "address", "block")


def test_nominatim_answers_are_read_too(photon: str) -> None:
    places = RemoteGeocoder(photon, "nominatim", 3).search("pike")
    assert [p.kind for p in places] == ["place", "street"]
    assert places[1].bbox == (-122.35, 47.60, -122.30, 47.62)


def test_a_geocoder_that_fails_is_unavailable_and_the_query_unlogged(
    photon: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PlacesUnavailable, match="502"):
        RemoteGeocoder(photon + "/down", "photon", 3).search("my secret corner")
    with pytest.raises(PlacesUnavailable, match="did not answer"):
        RemoteGeocoder(f"http://127.0.0.1:{free_port()}", "photon", 3).search("my secret corner")
    RemoteGeocoder(photon, "photon", 3).search("my secret corner")
    assert "secret" not in caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
