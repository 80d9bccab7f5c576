"""The site as a whole: its languages, error pages, share tags, app manifest and search."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from lxml import html
from PIL import Image

from tests.support.feed import SEATTLE, Seeded
from townsquare.app import create_app
from townsquare.settings import Settings

PLACE = {"lat": str(SEATTLE[0]), "lon": str(SEATTLE[1])}
SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
ENGLISH_SENTENCES = (
    "Safety incidents nearby",
    "Show incidents",
    "Skip to content",
    "Public safety calls near a place",
    "Call type",
    "Last updated",
)


def page(body: str) -> html.HtmlElement:
    """A page as an element tree."""
    root = html.fromstring(body)
    assert isinstance(root, html.HtmlElement)
    return root


def meta(root: html.HtmlElement, name: str) -> str:
    """The content of a `<meta property|name=...>`."""
    found = root.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    assert isinstance(found, list)
    assert found, name
    return str(found[0])


def test_the_feed_speaks_spanish_to_a_spanish_browser(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/", params=PLACE, headers=SPANISH)
    assert response.status_code == 200
    root = page(response.text)
    assert root.get("lang") == "es"
    text = root.text_content()
    assert "Incidentes de seguridad cercanos" in text
    assert "Incendio de edificio" in text  # a category, from the taxonomy's catalog
    for sentence in ENGLISH_SENTENCES:
        assert sentence not in text, sentence
    assert "Accept-Language" in response.headers["vary"]


def test_the_incident_page_speaks_spanish(client: TestClient, seeded: Seeded) -> None:
    response = client.get(f"/incidents/{seeded.ids['fire']}", headers=SPANISH)
    text = page(response.text).text_content()
    assert "Tipo de llamada" in text
    assert "Última actualización" in text
    assert "hace 30 min" in text
    for sentence in ENGLISH_SENTENCES:
        assert sentence not in text, sentence


def test_the_switch_keeps_the_choice_over_the_browser_language(client: TestClient) -> None:
    switched = client.get(
        "/language",
        params={"lang": "en", "next": "/?lat=47.6&lon=-122.3"},
        headers=SPANISH,
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/?lat=47.6&lon=-122.3"
    assert "lang=en" in switched.headers["set-cookie"]
    again = client.get("/", headers=SPANISH)  # the client keeps the cookie
    assert page(again.text).get("lang") == "en"
    assert "Safety incidents nearby" in again.text
    client.cookies.clear()
    links = page(client.get("/", headers=SPANISH).text).xpath("//a[@data-language]")
    assert [a.get("lang") for a in links] == ["en"]
    assert links[0].text_content() == "English"


def test_the_switch_never_leads_to_another_site(client: TestClient) -> None:
    response = client.get(
        "/language", params={"lang": "es", "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_a_browser_gets_a_page_for_404_and_a_program_gets_problem_json(client: TestClient) -> None:
    shown = client.get("/no-such-page", headers=BROWSER)
    assert shown.status_code == 404
    assert shown.headers["content-type"].startswith("text/html")
    assert "We couldn't find that page" in shown.text
    assert 'class="topbar"' in shown.text  # the site's own frame
    spanish = client.get("/no-such-page", headers=BROWSER | SPANISH)
    assert "No encontramos esa página" in spanish.text
    api = client.get("/api/v1/incidents/999999999", headers=BROWSER)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404


def test_an_unforeseen_error_is_a_page_for_a_browser_and_a_problem_for_a_program(
    settings: Settings,
) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("unforeseen")

    with TestClient(app, raise_server_exceptions=False) as client:
        shown = client.get("/boom", headers=BROWSER)
        assert shown.status_code == 500
        assert "Something went wrong on our side" in shown.text
        assert "unforeseen" not in shown.text
        api = client.get("/boom")
        assert api.status_code == 500
        assert api.headers["content-type"] == "application/problem+json"


def test_a_shared_incident_link_shows_only_public_fields(
    client: TestClient, seeded: Seeded
) -> None:
    root = page(client.get(f"/incidents/{seeded.ids['fire']}").text)
    title, description = meta(root, "og:title"), meta(root, "og:description")
    assert title.startswith("Structure Fire")
    assert "100 block of Pine St" in description
    exact_lat = SEATTLE[0] + 400 / 111_320
    tags = " ".join(str(v) for v in root.xpath("//meta/@content"))
    assert f"{exact_lat:.5f}" not in tags  # the point is rounded, as on the page
    assert re.search(r"\d{1,3}\.\d{4}°", description)
    assert meta(root, "og:url").endswith(f"/incidents/{seeded.ids['fire']}")
    assert meta(root, "og:image").endswith("/static/icons/og-image.png")
    assert meta(root, "twitter:card") == "summary_large_image"


def test_the_feed_has_share_tags(client: TestClient, seeded: Seeded) -> None:
    root = page(client.get("/", params=PLACE).text)
    assert "Public safety calls within" in meta(root, "og:description")
    assert "lat=" in meta(root, "og:url")


def test_the_manifest_and_icons_install_the_site(client: TestClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    purposes = set()
    for icon in manifest["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(served.content)).size
            assert f"{width}x{height}" == icon["sizes"]
        purposes.add(icon.get("purpose", "any"))
    assert {"any", "maskable"} <= purposes
    root = page(client.get("/").text)
    touch = root.xpath('//link[@rel="apple-touch-icon"]/@href')
    assert Image.open(io.BytesIO(client.get(str(touch[0])).content)).size == (180, 180)
    assert root.xpath('//link[@rel="manifest"]/@href') == ["/manifest.webmanifest"]


@pytest.mark.parametrize("words", ["pine", "PINE st", "structure fire", "fire.structure"])
def test_search_finds_incidents_by_public_words(
    client: TestClient, seeded: Seeded, words: str
) -> None:
    found = client.get("/api/v1/incidents", params=PLACE | {"q": words, "radius_m": "2000"})
    assert found.status_code == 200
    ids = {f["id"] for f in found.json()["features"]}
    if words == "pine":
        assert seeded.ids["fire"] in ids
        assert seeded.ids["collision"] in ids
    if "fire" in words.lower():
        assert ids == {seeded.ids["fire"]}


def test_search_sees_nothing_but_public_fields(client: TestClient, seeded: Seeded) -> None:
    withheld = client.get("/api/v1/incidents", params=PLACE | {"q": "Secret"})
    assert withheld.json()["features"] == []
    nothing = client.get("/api/v1/incidents", params=PLACE | {"q": "no such words"})
    assert nothing.json()["features"] == []
    too_long = client.get("/api/v1/incidents", params=PLACE | {"q": "x" * 101})
    assert too_long.status_code == 422


def test_the_feed_page_searches_without_javascript(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/", params=PLACE | {"q": "alarm"})
    root = page(response.text)
    listed = [int(i) for i in root.xpath("//li[@data-incident]/@data-incident")]
    assert listed == [seeded.ids["alarm"]]
    assert root.xpath('//form[@id="search"]//input[@name="q"]/@value') == ["alarm"]
    fragment = client.get("/fragments/incidents", params=PLACE | {"q": "alarm"})
    assert f'data-incident="{seeded.ids["alarm"]}"' in fragment.text
    assert "q=alarm" in fragment.headers["HX-Push-Url"]


def test_the_map_of_a_search_marks_only_its_matches(client: TestClient, seeded: Seeded) -> None:
    points = client.get("/fragments/map-points", params=PLACE | {"q": "alarm"}).json()["points"]
    assert [p["id"] for p in points] == [seeded.ids["alarm"]]
    fragment = client.get("/fragments/incidents", params=PLACE | {"q": "alarm"})
    assert 'data-q="alarm"' in fragment.text  # what the map's script asks for
