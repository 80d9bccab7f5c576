"""The weekly summary over HTTP: the public JSON and the page, for anyone without an account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.pages import labelled, page, texts
from tests.support.weekly import FAR, HOME, plant, plant_history, week_ago

PLACE = {"lat": str(HOME[0]), "lon": str(HOME[1]), "radius_m": "1000"}
WHEN = {"end": "2026-11-28T12:00:00Z"}


def test_json_counts_public_incidents_of_the_week(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    plant_history(factory)
    plant(factory, "crime.burglary", week_ago(0), count=2)
    plant(factory, "crime.burglary", week_ago(0), visibility="withheld", count=5)
    plant(factory, "crime.burglary", week_ago(0), visibility="removed", count=5)
    plant(factory, "crime.burglary", week_ago(0), place=FAR, count=5)
    plant(factory, "crime.burglary", week_ago(3), count=1)
    response = client.get("/api/v1/weekly", params=PLACE | WHEN)
    assert response.status_code == 200
    body = response.json()
    assert body["end"].startswith("2026-11-28T12:00:00")
    assert body["baseline_weeks"] == 13
    assert body["categories"] == [
        {
            "category": "crime.burglary",
            "label": "Burglary",
            "this_week": 2,
            "usual": {"mean": 0.1, "min": 0, "max": 1},
            "comparison": "more than usual",
        }
    ]
    assert body["total"]["this_week"] == 2
    assert body["area"] == {"kind": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000.0}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"radius_m": "100"}, "radius_m"),
        ({"radius_m": "20000"}, "radius_m"),
        ({"radius_m": "far"}, "radius_m"),
        ({"lat": "91"}, "lat"),
        ({"end": "2026-11-28T12:00:00"}, "end"),  # no offset: refused, not guessed
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/v1/weekly", params=PLACE | params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == parameter


def test_json_needs_a_place(client: TestClient) -> None:
    assert client.get("/api/v1/weekly").status_code == 422


def test_page_shows_the_table_of_categories_against_the_usual_range(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    plant_history(factory)
    for weeks in range(1, 14):
        plant(factory, "traffic.collision", week_ago(weeks), count=1 + weeks % 2)
    plant(factory, "traffic.collision", week_ago(0), count=2)
    plant(factory, "crime.burglary", week_ago(0), visibility="withheld", count=3)
    response = client.get("/weekly", params=PLACE | WHEN)
    assert response.status_code == 200
    body = response.text
    rows = texts(body, "//table[@data-weekly]/tbody/tr")
    assert rows == ["Traffic collision 2 1–2 1.5 about usual"]
    assert texts(body, "//table[@data-weekly]/tfoot/tr") == ["All categories 2 1–2 1.5 about usual"]
    assert "Burglary" not in body  # withheld: never counted, never named
    assert "withheld" in texts(body, "//p[@data-note]")[0]
    assert page(body).xpath("//div[@data-map='weekly'][@data-radius='1000']")
    assert page(body).xpath("//nav[@class='topnav']/a[starts-with(@href, '/weekly?lat=')]")
    labelled(body)
    for fear in ("danger", "crime wave", "spike", "alarming"):
        assert fear not in body.lower()


def test_page_explains_a_bad_radius_in_the_page(client: TestClient) -> None:
    response = client.get("/weekly", params=PLACE | {"radius_m": "50"})
    assert response.status_code == 422
    assert "radius_m" in texts(response.text, "//div[@id='form-error']")[0]
    assert not page(response.text).xpath("//table[@data-weekly]")


def test_page_without_parameters_shows_the_default_place(client: TestClient) -> None:
    response = client.get("/weekly")
    assert response.status_code == 200
    assert page(response.text).xpath("//table[@data-weekly]")
