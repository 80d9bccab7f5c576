"""Every absolute URL comes from TOWNSQUARE_PUBLIC_URL: a request's Host never shows up.

A client saying `Host: evil.example` (or X-Forwarded-Host, or Forwarded) to each feed, API
document and page that carries absolute URLs finds `evil.example` nowhere: not in the body,
not in a Location or Link header, not in the framework's own trailing-slash redirect.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support.alerts import add_incident
from tests.support.waiting import wait_for
from townsquare.app import create_app
from townsquare.platform import Platform
from townsquare.settings import Settings

EVIL = "evil.example"
SPOOFED = [
    {"Host": EVIL},
    {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"},
    {"Host": EVIL, "X-Forwarded-Host": EVIL, "Forwarded": f"host={EVIL};proto=https"},
]
AREA = "lat=47.61&lon=-122.33&radius_m=2000"
PATHS = [
    f"/api/v1/incidents?{AREA}&limit=1",
    "/api/v1/incidents/{id}",
    f"/feeds/atom?{AREA}",
    f"/feeds/cap?{AREA}",
    "/feeds/cap/{id}.xml",
    "/open311/v2/discovery.json",
    "/open311/v2/discovery.xml",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    f"/?{AREA}",
    f"/fragments/incidents?{AREA}",
    f"/fragments/map-points?{AREA}",
    "/incidents/{id}",
    "/weekly",
    "/alerts",
    "/transparency",
    "/sign-in",
    "/account",  # a redirect to sign in
    "/feeds/atom/",  # the framework's trailing-slash redirects
    "/api/v1/incidents/",
]


@dataclass
class Site:
    """A client of the whole app, and the public incidents it holds."""

    client: TestClient
    ids: list[int]


@pytest.fixture
def site(platform: Platform) -> Iterator[Site]:
    """The app on the test store (public URL http://townsquare.test) with two incidents."""
    with TestClient(create_app(platform=platform), base_url=f"http://{EVIL}") as client:
        ids = [add_incident(platform.factory) for _ in range(2)]
        platform.relay_once()
        # The server's own relay job may have taken the rows first (SKIP LOCKED): wait until
        # the feed index holds both, whoever relayed them.
        wait_for(lambda: len(platform.index) == len(ids), what="both incidents in the feed index")
        yield Site(client, ids)


@pytest.mark.parametrize("path", PATHS)
def test_no_url_names_the_host_the_client_chose(site: Site, path: str) -> None:
    url = path.format(id=site.ids[0])
    for headers in SPOOFED:
        response = site.client.get(url, headers=headers, follow_redirects=False)
        assert response.status_code < 400, response.text
        assert EVIL not in response.text, headers
        for name in ("location", "link", "content-location", "hx-push-url"):
            assert EVIL not in response.headers.get(name, ""), (name, headers)


def test_the_next_link_keeps_path_and_query_on_the_public_url(site: Site) -> None:
    first = site.client.get(f"/api/v1/incidents?{AREA}&limit=1", headers={"Host": EVIL})
    body = first.json()
    link = body["links"][0]["href"]
    assert first.headers["link"] == f'<{link}>; rel="next"'
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "townsquare.test",
        "/api/v1/incidents",
    )
    query = dict(parse_qsl(parts.query))
    assert query == {
        "lat": "47.61",
        "lon": "-122.33",
        "radius_m": "2000",
        "limit": "1",
        "cursor": body["next_cursor"],
    }
    # Following it gives the other incident.
    second = site.client.get(f"{parts.path}?{parts.query}").json()
    seen = [f["id"] for f in body["features"] + second["features"]]
    assert sorted(seen) == sorted(site.ids)


def test_atom_ids_and_links_are_on_the_public_url(site: Site) -> None:
    feed = site.client.get(f"/feeds/atom?{AREA}", headers={"Host": EVIL}).text
    for incident_id in site.ids:
        assert f"<id>http://townsquare.test/incidents/{incident_id}</id>" in feed
    assert f'href="http://townsquare.test/feeds/atom?{AREA.replace("&", "&amp;")}"' in feed


def test_a_public_url_with_a_path_keeps_its_path() -> None:
    settings = Settings(public_url="https://example.org/town/")
    assert (
        settings.absolute_url("/feeds/atom", [("lat", "1"), ("q", "a b&c")])
        == "https://example.org/town/feeds/atom?lat=1&q=a+b%26c"
    )
    for bad in ("feeds", "//evil.example/x", "https://evil.example/"):
        with pytest.raises(ValueError, match="not a path"):
            settings.absolute_url(bad)
