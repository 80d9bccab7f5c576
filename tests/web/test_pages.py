"""The public pages: a place's feed, its htmx fragments, an incident's page, friendly errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.orm import Session, sessionmaker

from tests.support import factories
from tests.support.feed import SAN_FRANCISCO, SEATTLE, Seeded
from townsquare import templating
from townsquare.app import create_app
from townsquare.db import transaction, utcnow
from townsquare.settings import Settings
from townsquare.templating import local_text
from townsquare.web import display, feed, kit

PLACE = {"lat": str(SEATTLE[0]), "lon": str(SEATTLE[1])}
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)


def parse(body: str) -> html.HtmlElement:
    """A page or fragment as an element tree."""
    root = html.fromstring(body)
    assert isinstance(root, html.HtmlElement)
    return root


def elements(root: html.HtmlElement, path: str) -> list[html.HtmlElement]:
    """The elements an XPath finds."""
    found = root.xpath(path)
    assert isinstance(found, list)
    return [node for node in found if isinstance(node, html.HtmlElement)]


def strings(root: html.HtmlElement, path: str) -> list[str]:
    """The attribute values or texts an XPath finds."""
    found = root.xpath(path)
    assert isinstance(found, list)
    return [str(node) for node in found]


def fragments(body: str) -> list[html.HtmlElement]:
    """The top-level elements of a fragment."""
    return [node for node in html.fragments_fromstring(body) if isinstance(node, html.HtmlElement)]


def listed(body: str) -> list[int]:
    """The incident ids of the list in a page or fragment, in order."""
    wrapper = parse(f"<div>{body}</div>") if "<html" not in body else parse(body)
    return [int(i) for i in strings(wrapper, "//li[@data-incident]/@data-incident")]


def test_page_lists_the_place_newest_first(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/", params=PLACE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    ids = seeded.ids
    assert listed(response.text) == [ids["collision"], ids["fire"], ids["alarm"]]
    assert "Secret Collision" not in response.text  # withheld
    assert "100 m away" in response.text
    assert "10 min ago" in response.text


def test_page_without_a_place_opens_on_the_configured_centre(
    client: TestClient, seeded: Seeded
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert listed(response.text) == [
        seeded.ids["collision"],
        seeded.ids["fire"],
        seeded.ids["alarm"],
    ]


def test_quick_links_lead_to_both_sample_cities(client: TestClient, seeded: Seeded) -> None:
    page = parse(client.get("/").text)
    links = strings(page, '//nav[@aria-label="Sample places"]//a/@href')
    assert len(links) == 2
    sf = next(link for link in links if f"lat={SAN_FRANCISCO[0]}" in link)
    assert listed(client.get(sf).text) == [seeded.ids["sf"]]


def test_radius_widens_the_place(client: TestClient, seeded: Seeded) -> None:
    response = client.get("/", params={**PLACE, "radius_m": "5000"})
    assert listed(response.text)[0] == seeded.ids["far"]
    assert "5 km" in response.text


@pytest.mark.parametrize(
    ("category", "expected"),
    [("fire", ["fire", "alarm"]), ("fire.alarm", ["alarm"]), ("traffic", ["collision"])],
)
def test_category_filter(
    client: TestClient, seeded: Seeded, category: str, expected: list[str]
) -> None:
    response = client.get("/", params={**PLACE, "category": category})
    assert listed(response.text) == [seeded.ids[name] for name in expected]
    selected = elements(parse(response.text), '//select[@id="category"]//option[@selected]')
    assert [o.get("value") for o in selected] == [category]


def test_category_select_offers_only_what_the_area_holds_with_counts(
    client: TestClient, seeded: Seeded
) -> None:
    page = parse(client.get("/", params=PLACE).text)
    options = elements(page, '//select[@id="category"]//option')
    labels = {o.get("value"): o.text_content() for o in options}
    assert labels == {
        "": "All categories (3)",
        "fire": "All fire (2)",
        "fire.structure": "Structure fire (1)",
        "fire.alarm": "Fire alarm (1)",
        "traffic.collision": "Traffic collision (1)",
    }
    for field in ("lat", "lon", "radius", "category"):
        assert elements(page, f'//label[@for="{field}"]'), field


def test_fragment_is_the_results_and_pushes_the_page_url(
    client: TestClient, seeded: Seeded
) -> None:
    response = client.get(
        "/fragments/incidents", params={**PLACE, "category": "fire"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert listed(response.text) == [seeded.ids["fire"], seeded.ids["alarm"]]
    pushed = urlsplit(response.headers["HX-Push-Url"])
    assert pushed.path == "/"
    assert parse_qs(pushed.query)["category"] == ["fire"]
    fragment = fragments(response.text)
    assert [f.get("id") for f in fragment] == ["results"]
    assert fragment[0].get("data-lat") == str(SEATTLE[0])


def test_load_more_follows_the_cursor_to_the_end(
    client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "PAGE_SIZE", 2)
    page = parse(client.get("/", params=PLACE).text)
    seen = [int(i) for i in strings(page, "//li[@data-incident]/@data-incident")]
    more = elements(page, '//li[@class="load-more"]/a')
    while more:
        assert more[0].get("href", "").startswith("/?")  # works without JavaScript too
        response = client.get(more[0].get("hx-get", ""))
        assert response.status_code == 200
        assert "HX-Push-Url" not in response.headers
        items = fragments(response.text)
        seen += [int(li.get("data-incident", "")) for li in items if li.get("data-incident")]
        more = [a for li in items for a in elements(li, 'self::li[@class="load-more"]/a')]
    assert seen == [seeded.ids["collision"], seeded.ids["fire"], seeded.ids["alarm"]]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"lat": "abc", "lon": "-122.3"}, "lat", "Latitude: 'abc' is not a number."),
        ({"lat": "91", "lon": "-122.3"}, "lat", "Latitude: 91.0 is outside [-90, 90]."),
        ({"lat": "47.6"}, "lon", "Longitude: give both latitude and longitude (or neither)."),
        ({"lon": "-122.3"}, "lat", "Latitude: give both latitude and longitude (or neither)."),
        ({**PLACE, "radius_m": "900000"}, "radius_m", "Radius: must be in (0, 50000]."),
        ({**PLACE, "radius_m": "-1"}, "radius_m", "Radius: must be in (0, 50000]."),
        ({**PLACE, "category": "nonsense"}, "category", "is not a category code or prefix"),
        ({**PLACE, "cursor": "garbage!"}, "cursor", "not a cursor returned by this API"),
    ],
)
def test_bad_parameters_are_explained_in_the_page(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    response = client.get("/", params=params)
    assert response.status_code == 422
    page = parse(response.text)
    alert = elements(page, '//*[@role="alert"]')[0].text_content()
    assert "We couldn't search with that." in alert
    assert message in alert
    if field != "cursor":
        control = elements(page, f'//*[@name="{field}"]')[0]
        assert control.get("aria-invalid") == "true"
    fragment = client.get("/fragments/incidents", params=params)
    assert fragment.status_code == 422
    assert message in parse(fragment.text).text_content()
    assert "HX-Push-Url" not in fragment.headers


def test_incident_page_shows_what_when_where_and_why(client: TestClient, seeded: Seeded) -> None:
    response = client.get(f"/incidents/{seeded.ids['fire']}")
    assert response.status_code == 200
    page = parse(response.text)
    assert elements(page, "//h1")[0].text_content() == "Structure Fire"
    text = page.text_content()
    occurred = seeded.now - timedelta(minutes=30)
    for expected in (
        "Structure fire",
        "fire.structure",
        "100 block of Pine St",
        local_text(occurred, "America/Los_Angeles"),  # the site's zone, named
        "30 min ago",
        "dispatch-confirmed",
        "Test Fire Department",
        "not alerted: 3 h old",
    ):
        assert expected in text, expected
    assert strings(page, '//div[@data-map="incident"]/@data-lat')
    stamp = occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stamp in strings(page, "//time[@data-local]/@datetime")  # for the reader's zone


@pytest.mark.parametrize("incident_id", ["999999", "withheld", "abc", "9" * 40, "-1", "١"])
def test_unknown_or_withheld_incident_is_a_friendly_404(
    client: TestClient, seeded: Seeded, incident_id: str
) -> None:
    if incident_id == "withheld":
        incident_id = str(seeded.ids["withheld"])
    response = client.get(f"/incidents/{incident_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "We couldn't find that incident" in response.text
    assert "Secret Collision" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?category=fire",
        f"/?lat={SAN_FRANCISCO[0]}&lon={SAN_FRANCISCO[1]}",
        "/?lat=abc&lon=1",
        "/?lat=0&lon=0",
        "/fragments/incidents",
        "/fragments/incidents?cursor=x",
        "/incidents/{fire}",
        "/incidents/0",
    ],
)
def test_pages_name_no_other_host(
    client: TestClient, settings: Settings, seeded: Seeded, path: str
) -> None:
    response = client.get(path.format(fire=seeded.ids["fire"]))
    own = {"testserver", urlsplit(settings.site_url()).hostname}  # share tags: the public URL
    others = [
        url
        for url in ABSOLUTE_URL.findall(response.text)
        if urlsplit(url if "//" in url[:8] else f"http:{url}").hostname not in own
    ]
    assert others == []
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "img-src 'self' data:;" in policy


def test_static_files_are_served(client: TestClient) -> None:
    for path in ("/static/townsquare.js", "/static/townsquare.css", "/static/favicon.svg"):
        assert client.get(path).status_code == 200, path


def test_tile_server_is_allowed_only_when_configured() -> None:
    tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    policy = kit.content_security_policy(tiles)
    assert "img-src 'self' data: https://*.tile.example.org;" in policy
    assert "img-src 'self' data:;" in kit.content_security_policy("")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, "just now"),
        (-5, "just now"),
        (1, "1 min ago"),
        (59, "59 min ago"),
        (60, "1 h ago"),
        (47 * 60 + 59, "47 h ago"),
        (48 * 60, "2 days ago"),
    ],
)
def test_relative_age(minutes: int, expected: str) -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert display.relative_age(now - timedelta(minutes=minutes), now) == expected


def test_formatting_helpers() -> None:
    assert templating.utc_iso(datetime(2026, 1, 1, 4, 5, 6, tzinfo=UTC)) == "2026-01-01T04:05:06Z"
    assert [display.distance_text(m) for m in (800, 1000, 1500, 2000)] == [
        "800 m",
        "1 km",
        "1.5 km",
        "2 km",
    ]
    assert display.coordinates_text(47.6062, -122.3321) == "47.6062°\u00a0N, 122.3321°\u00a0W"
    assert display.filter_label("") == "all categories"
    assert display.filter_label("fire") == "Fire"
    assert display.filter_label("fire.alarm") == "Fire alarm"


def test_a_category_asked_for_stays_selectable_when_the_area_has_none() -> None:
    groups = display.category_options("sensitive.death", {"fire.alarm": 2})
    values = [(o.value, o.label) for g in groups for o in g.options]
    assert values == [
        ("sensitive.death", "Death investigation (0)"),
        ("fire.alarm", "Fire alarm (2)"),
    ]


def test_page_size_never_exceeds_the_configured_maximum(settings: Settings, seeded: Seeded) -> None:
    small = settings.model_copy(update={"page_size_max": 2})
    with TestClient(create_app(small)) as client:
        response = client.get("/", params=PLACE)
    assert response.status_code == 200
    assert listed(response.text) == [seeded.ids["collision"], seeded.ids["fire"]]
    assert "Load more incidents" in response.text


def test_the_map_gets_the_whole_area_with_icons_and_lately_closed_calls_hollow(
    settings: Settings, seeded: Seeded, factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(factory) as session:
        for minutes in range(40):  # more than a page of the list
            factories.incident(
                session,
                lat=SEATTLE[0],
                lon=SEATTLE[1],
                occurred_at=now - timedelta(minutes=60 + minutes),
                category="safety.hazmat",
            )
        closed = factories.incident(
            session, lat=SEATTLE[0], lon=SEATTLE[1], occurred_at=now - timedelta(hours=3)
        )
        closed.status, closed.closed_at = "closed", now - timedelta(hours=1)
        old = factories.incident(
            session, lat=SEATTLE[0], lon=SEATTLE[1], occurred_at=now - timedelta(days=3)
        )
        old.status, old.closed_at = "closed", now - timedelta(days=2)
        closed_id, old_id = closed.id, old.id
    with TestClient(create_app(settings)) as client:
        page = parse(client.get("/", params=PLACE).text)
        body = client.get("/fragments/map-points", params=PLACE).json()
        fire = client.get("/fragments/map-points", params={**PLACE, "category": "fire"}).json()
    assert len(strings(page, "//li[@data-incident]/@data-incident")) == 25  # still paged
    points = {p["id"]: p for p in body["points"]}
    assert len(points) == 3 + 40 + 1  # every active call of the area, and the lately closed
    assert body["more"] is False
    assert seeded.ids["withheld"] not in points
    assert old_id not in points
    assert points[closed_id]["closed"] is True
    assert points[seeded.ids["fire"]] | {"lat": 0, "lon": 0} == {
        "id": seeded.ids["fire"],
        "lat": 0,
        "lon": 0,
        "icon": "fire",
        "group": "fire",
        "label": "Structure fire",
        "title": "Structure Fire",
        "closed": False,
        "severity": points[seeded.ids["fire"]]["severity"],
    }
    assert {p["icon"] for p in body["points"]} == {"fire", "hazard", "traffic"}
    assert {p["group"] for p in fire["points"]} == {"fire"}
    assert strings(page, '//option[@value="safety.hazmat"]/text()') == ["Hazardous materials (40)"]
