"""One log line per request: method, route template, status, duration, request id; nothing a
reader typed (no path values, no query string with coordinates), no address."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, alert_settings
from townsquare.app import create_app
from townsquare.logs import JsonFormatter
from townsquare.platform import Platform

AREA = "lat=47.61234&lon=-122.33321&radius_m=2000"


def test_each_request_logs_its_route_template_and_never_the_reader_s_place(
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    incident_id = add_incident(factory)
    app = create_app(platform=Platform(alert_settings(tmp_path), engine, factory))
    with TestClient(app, client=("203.0.113.50", 1)) as client, caplog.at_level(logging.INFO):
        feed = client.get(f"/api/v1/incidents?{AREA}", headers={"X-Request-ID": "rq-1"})
        one = client.get(f"/api/v1/incidents/{incident_id}?{AREA}")
        missing = client.get("/no/such/page/47.61234")
        odd = client.get(f"/feeds/atom?{AREA}", headers={"X-Request-ID": "<script>"})
    formatter = JsonFormatter()
    logged = [r for r in caplog.records if r.name == "townsquare.access"]
    lines = [json.loads(formatter.format(record)) for record in logged]
    assert [(e["method"], e["route"], e["status"]) for e in lines] == [
        ("GET", "/api/v1/incidents", 200),
        ("GET", "/api/v1/incidents/{incident_id}", 200),
        ("GET", "(unmatched)", 404),
        ("GET", "/feeds/atom", 200),
    ]
    assert feed.headers["X-Request-ID"] == "rq-1" == lines[0]["request_id"]
    for response, entry in zip((one, missing, odd), lines[1:], strict=True):
        assert response.headers["X-Request-ID"] == entry["request_id"] != "<script>"
        assert len(entry["request_id"]) == 32
    assert all(entry["duration_ms"] >= 0 for entry in lines)
    written = json.dumps(lines)
    typed = ("47.61234", "122.33321", "radius_m", f"/incidents/{incident_id}", "203.0.113.50")
    for secret in typed:
        assert secret not in written
