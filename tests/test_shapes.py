"""Every geometry route refuses hostile shapes naming the rule, before any cell is walked.

The corpus (tests/support/shapes.py) goes to watch areas (the API, and the body the alerts
page's form sends), agency jurisdictions and footage requests (the API and the portal's form);
a city-sized shape is still accepted everywhere.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from h3.api import basic_int as h3i
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.footage import CENTER, make_agency, officer, request_body
from tests.support.pages import texts
from tests.support.people import operator
from tests.support.residents import Mailbox, Person
from tests.support.shapes import box, geojson, hostile, ring_around
from townsquare import shapes
from townsquare.agencies.jurisdiction import MAX_VERTICES as JURISDICTION_VERTICES
from townsquare.agencies.models import Agency
from townsquare.alerts import cells
from townsquare.alerts.cover import PolygonArea
from townsquare.alerts.models import Subscription
from townsquare.alerts.schemas import MAX_POLYGON_VERTICES
from townsquare.db import utcnow
from townsquare.footage.models import FootageRequest
from townsquare.footage.rules import MAX_VERTICES as FOOTAGE_VERTICES
from townsquare.weekly import service as weekly

PROBLEM = "application/problem+json"
SEATTLE = (47.61, -122.33)
EMAIL = [{"kind": "email", "address": "watcher@example.org"}]
LOCAL = "%Y-%m-%dT%H:%M"


def _count(factory: sessionmaker[Session], table: type) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _refused(answer: object, rule: str, label: str) -> None:
    assert getattr(answer, "status_code") == 422, (label, getattr(answer, "text"))  # noqa: B009
    assert getattr(answer, "headers")["content-type"] == PROBLEM, label  # noqa: B009
    assert f"{rule}:" in getattr(answer, "json")()["detail"], label  # noqa: B009


def test_watch_areas_refuse_each_hostile_polygon_and_circle(
    app_client: TestClient, factory: sessionmaker[Session]
) -> None:
    corpus = hostile(*SEATTLE, MAX_POLYGON_VERTICES)
    for label, (ring, rule) in corpus.items():
        body = {"area": {"type": "polygon", "coordinates": [ring]}, "channels": EMAIL}
        started = time.perf_counter()
        answer = app_client.post("/api/v1/subscriptions", json=body)
        _refused(answer, rule, label)
        assert time.perf_counter() - started < 2, label
    # A 20 km sliver a metre wide passes the shape rules but would walk ~1.3 M cells.
    lat, lon = SEATTLE
    sliver = [[lon - 0.13, lat], [lon + 0.13, lat], [lon + 0.13, lat + 1e-5], [lon - 0.13, lat]]
    answer = app_client.post(
        "/api/v1/subscriptions",
        json={"area": {"type": "polygon", "coordinates": [sliver]}, "channels": EMAIL},
    )
    assert answer.status_code == 422, answer.text
    assert "budget" in answer.json()["detail"]
    # The alerts page's form sends a circle; the page shows the answer's detail.
    circles = {
        "antimeridian": ((51.2, 179.99), "antimeridian"),
        "pole": ((89.99, 0.0), "pole"),
    }
    for label, (centre, rule) in circles.items():
        shape = {"type": "circle", "lat": centre[0], "lon": centre[1], "radius_m": 5000}
        answer = app_client.post(
            "/api/v1/subscriptions",
            json={"area": shape, "min_severity": 1, "channels": EMAIL},
            headers={"Content-Type": "application/json"},
        )
        _refused(answer, rule, label)
    assert _count(factory, Subscription) == 0
    city = box(lon - 0.05, lat - 0.03, lon + 0.05, lat + 0.03)  # about 7.5 by 6.7 km
    made = app_client.post(
        "/api/v1/subscriptions",
        json={"area": {"type": "polygon", "coordinates": [city]}, "channels": EMAIL},
    )
    assert made.status_code == 201, made.text


def test_jurisdictions_refuse_each_hostile_polygon(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    op = operator(app_client, mailbox[0], factory, "op@townsquare.example")
    body = {"slug": "seattle-police", "name": "Seattle Police", "time_zone": "America/Los_Angeles"}
    corpus = hostile(*SEATTLE, JURISDICTION_VERTICES)
    corpus["continent"] = (box(-170.0, 10.0, -50.0, 75.0), "size")
    for label, (ring, rule) in corpus.items():
        answer = op.post("/api/v1/agencies", json=body | {"jurisdiction": geojson(ring)})
        _refused(answer, rule, label)
        assert answer.json()["parameter"] == "jurisdiction", label
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[box(-122.45, 47.48, -122.22, 47.74)], [corpus["antimeridian"][0]]],
    }
    _refused(
        op.post("/api/v1/agencies", json=body | {"jurisdiction": multi}), "antimeridian", "multi"
    )
    north, south = box(-122.45, 47.60, -122.22, 47.74), box(-122.45, 47.48, -122.22, 47.61)
    inner = box(-122.40, 47.65, -122.30, 47.70)
    for label, parts in {
        "overlapping": [north, south],
        "one inside another": [north, inner],
    }.items():
        multi = {"type": "MultiPolygon", "coordinates": [[part] for part in parts]}
        answer = op.post("/api/v1/agencies", json=body | {"jurisdiction": multi})
        _refused(answer, "overlap", label)
        assert "parts 1 and 2 overlap" in answer.json()["detail"]
    assert _count(factory, Agency) == 0
    touching = [box(-122.45, 47.61, -122.22, 47.74), box(-122.45, 47.48, -122.22, 47.61)]
    apart = {"type": "MultiPolygon", "coordinates": [[part] for part in touching]}
    assert op.post("/api/v1/agencies", json=body | {"jurisdiction": apart}).status_code == 201
    body["slug"] = "seattle-fire"
    city = geojson(box(-122.45, 47.48, -122.22, 47.74))
    assert op.post("/api/v1/agencies", json=body | {"jurisdiction": city}).status_code == 201


def _portal_form(person: Person, polygon: str) -> dict[str, str]:
    now = utcnow()
    return {
        "csrf_token": person.csrf,
        "case_number": "2026-777",
        "reason": "Bicycle theft from a rack; looking for anyone leaving with a red bike.",
        "lat": "",
        "lon": "",
        "radius_m": "",
        "polygon": polygon,
        "window_start": (now - timedelta(hours=2)).strftime(LOCAL),
        "window_end": (now - timedelta(hours=1)).strftime(LOCAL),
        "expires_at": (now + timedelta(days=3)).strftime(LOCAL),
    }


def test_footage_requests_refuse_each_hostile_polygon_over_the_api_and_the_form(
    app_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    make_agency(factory, "seattle-police")
    cop = officer(app_client, mailbox[0], factory, "cop@spd.example", "seattle-police")
    corpus = hostile(*CENTER, FOOTAGE_VERTICES + 1)  # 200 vertices and the closing position
    for label, (ring, rule) in corpus.items():
        body = request_body(utcnow(), circle=None, polygon=geojson(ring))
        answer = cop.post("/api/v1/footage/requests", json=body)
        _refused(answer, rule, label)
        assert answer.json()["parameter"] == "polygon", label
        page = cop.client.post(
            "/agency/requests", data=_portal_form(cop, json.dumps(geojson(ring)))
        )
        assert page.status_code == 422, label
        assert f"{rule}:" in texts(page.text, "//*[@id='form-error']")[0], label
    circle = {"lat": 51.2, "lon": 179.999, "radius_m": 300}
    _refused(
        cop.post("/api/v1/footage/requests", json=request_body(utcnow(), circle=circle)),
        "antimeridian",
        "circle",
    )
    assert _count(factory, FootageRequest) == 0
    block = ring_around(*CENTER, 400, 13)  # about 0.19 square miles, inside the jurisdiction
    made = cop.post(
        "/api/v1/footage/requests", json=request_body(utcnow(), circle=None, polygon=geojson(block))
    )
    assert made.status_code == 201, made.text


def test_cell_walks_are_bounded_for_shapes_stored_before_the_rules(
    factory: sessionmaker[Session],
) -> None:
    # A legacy cover of one resolution-1 cell stands for 5.7 million resolution-9 cells.
    legacy = h3i.latlng_to_cell(*SEATTLE, 1)
    started = time.perf_counter()
    with factory() as session, pytest.raises(shapes.TooManyCells, match="budget"):
        weekly.summarise(session, cells.cell_area((legacy,)), utcnow())
    # The polygon that hung the server, as the old size check let it through, is not covered.
    wrapped = box(-179.999, 47.0, 179.999, 47.01)
    with pytest.raises(shapes.TooManyCells, match="budget"):
        cells.polygon_cells(PolygonArea((tuple((x, y) for x, y in wrapped),)))
    assert time.perf_counter() - started < 2
