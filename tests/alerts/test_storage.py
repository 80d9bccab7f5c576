"""The store holds no centre, radius or polygon of any watch area: only its H3 cover.

Reads the tables directly (every column of every alert table, and the JSON inside), after
subscribing circles and a polygon through the API, and after migrating rows written the old
way (0011 schema, with centres) to the current one.
"""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from h3.api import basic_int as h3i
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME
from tests.support.webhooks import Receiver
from townsquare.alerts import cells
from townsquare.app import create_app
from townsquare.migrations import runner
from townsquare.platform import Platform

SHAPE_WORDS = ("lat", "lon", "radius", "polygon", "centre", "center", "coordinates", "area_kind")
RING = [
    [-122.335, 47.605],
    [-122.325, 47.605],
    [-122.325, 47.615],
    [-122.335, 47.615],
    [-122.335, 47.605],
]


def alert_tables(engine: Engine) -> list[str]:
    """Every table holding something of a subscription."""
    names = inspect(engine).get_table_names()
    return sorted(n for n in names if n.startswith("alert_") or n == "weekly_digest")


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every alert table, JSON columns parsed."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in alert_tables(engine):
            rows = [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
            for row in rows:
                for key, value in row.items():
                    if isinstance(value, str) and value and value[0] in "[{":
                        row[key] = json.loads(value)
            found[table] = rows
    return found


def floats(value: object) -> list[float]:
    """Every float anywhere inside a row value."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in floats(v)]
    return []


def keys(value: object) -> list[str]:
    """Every key of every JSON object inside a row value."""
    if isinstance(value, dict):
        return [str(k) for k in value] + [k for v in value.values() for k in keys(v)]
    if isinstance(value, list | tuple):
        return [k for v in value for k in keys(v)]
    return []


def assert_no_shape(engine: Engine) -> None:
    """No column, JSON key or number in the alert tables tells a watch area's shape."""
    schema = inspect(engine)
    for table in alert_tables(engine):
        columns = [c["name"] for c in schema.get_columns(table)]
        assert not [c for c in columns if any(w in c for w in SHAPE_WORDS)], (table, columns)
    for table, rows in dump(engine).items():
        for row in rows:
            assert not [k for k in keys(row) if any(w in k for w in SHAPE_WORDS)], (table, row)
            coordinates = [f for f in floats(row) if abs(f - HOME[0]) < 1 or abs(f - HOME[1]) < 1]
            assert coordinates == [], (table, row)


def test_the_store_keeps_cells_only(platform: Platform, engine: Engine, receiver: Receiver) -> None:
    client = TestClient(create_app(platform=platform))
    made = []
    for area in (
        {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 800},
        {"type": "circle", "lat": HOME[0] + 0.01, "lon": HOME[1], "radius_m": 5000},
        {"type": "polygon", "coordinates": [RING]},
    ):
        response = client.post(
            "/api/v1/subscriptions",
            json={
                "area": area,
                "channels": [
                    {"kind": "email", "address": "someone@example.org"},
                    {"kind": "webhook", "url": receiver.url},
                ],
            },
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    assert_no_shape(engine)
    tables = dump(engine)
    assert len(tables["alert_subscription"]) == 3
    assert len(tables["alert_cell"]) >= 3 * 20  # each area has a real cover

    owner = {"Authorization": f"Bearer {made[0]['manage_token']}"}
    shown = client.get(f"/api/v1/subscriptions/{made[0]['subscription']['id']}", headers=owner)
    area = shown.json()["area"]
    assert area["type"] == "cover"
    assert set(area) == {"type", "resolution", "cells"}
    assert all(h3i.is_valid_cell(h3i.str_to_int(c)) for c in area["cells"])


def test_migrating_old_rows_turns_shapes_into_covers(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    config = runner.alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011_post_lifecycle")
    polygon = json.dumps({"type": "Polygon", "coordinates": [RING]})
    with engine.begin() as connection:
        for sub_id, kind, radius, shape in (
            (1, "circle", 1000.0, None),
            (2, "polygon", None, polygon),
        ):
            connection.execute(
                text(
                    "INSERT INTO alert_subscription (id, manage_token_hash, name, area_kind, lat, "
                    "lon, radius_m, polygon, categories, min_severity, urgent_severity, "
                    "time_zone, created_at, updated_at) VALUES (:id, :hash, '', :kind, :lat, "
                    ":lon, :radius, :polygon, '[]', 1, 4, 'UTC', :now, :now)"
                ),
                {
                    "id": sub_id,
                    "hash": f"{sub_id:064d}",
                    "kind": kind,
                    "lat": HOME[0],
                    "lon": HOME[1],
                    "radius": radius,
                    "polygon": shape,
                    "now": "2026-11-30 10:00:00.000000",
                },
            )
            connection.execute(
                text(
                    "INSERT INTO alert_channel (subscription_id, kind, target, active) "
                    "VALUES (:id, 'email', :target, TRUE)"
                ),
                {"id": sub_id, "target": json.dumps({"address": f"old{sub_id}@example.org"})},
            )
            connection.execute(
                text(
                    "INSERT INTO alert_cell (subscription_id, cell, inside) VALUES (:id, 1, TRUE)"
                ),
                {"id": sub_id},
            )
        connection.execute(
            text(
                "INSERT INTO alert_delivery (subscription_id, channel_id, incident_id, kind, "
                "revision, status, body, attempts, created_at) VALUES (1, 1, 7, 'alert', '', "
                "'sent', '{}', 1, :now)"
            ),
            {"now": "2026-11-30 10:00:00.000000"},
        )
        connection.execute(
            text(
                "INSERT INTO weekly_digest (channel_id, week, window_end, status, attempts, "
                "created_at) VALUES (1, '2026-W48', :now, 'sent', 1, :now)"
            ),
            {"now": "2026-11-30 10:00:00.000000"},
        )
    runner.upgrade(engine)
    assert_no_shape(engine)
    with engine.connect() as connection:
        stored = {
            sub_id: tuple(
                sorted(
                    c
                    for s, c in connection.execute(
                        text("SELECT subscription_id, cell FROM alert_cell")
                    )
                    if s == sub_id
                )
            )
            for sub_id in (1, 2)
        }
        confirmed = (
            connection.execute(text("SELECT confirmed_at FROM alert_channel")).scalars().all()
        )
    assert stored[1] == cells.circle_cells(HOME[0], HOME[1], 1000.0)
    assert len(stored[2]) > 10
    assert len(confirmed) == 2
    assert all(c is not None for c in confirmed)  # existing addresses keep getting alerts
    with engine.connect() as connection:  # the log survives the table rebuilds
        for table in ("alert_delivery", "weekly_digest"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
