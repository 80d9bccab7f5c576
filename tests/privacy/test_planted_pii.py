"""10,000 dispatch rows, real ones mixed with planted personal data, through the real path.

After ingestion no planted name, phone number, e-mail address, date of birth, plate, case
code, unit number or exact house number appears in any API response, Atom feed, page,
export, event, log line or stored incident, and every sensitive call type is withheld.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.privacy import planted
from townsquare.app import create_app
from townsquare.events import OutboxEvent
from townsquare.formats.geojson import feature_collection
from townsquare.incidents import service as incidents
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import load_source_config
from townsquare.platform import Platform
from townsquare.settings import Settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AREAS = {"seattle": "-122.48,47.47,-122.20,47.78", "sf": "-122.53,37.60,-122.35,37.84"}
CENTRES = {"seattle": (47.62, -122.33), "sf": (37.77, -122.43)}


def _source(tmp_path: Path, rows: planted.Planted) -> Path:
    data = planted.write(tmp_path, rows)
    lines = [
        'slug = "planted-pii"',
        'name = "Planted PII feed"',
        'kind = "csv"',
        f"location = {json.dumps(str(data))}",
        'time_zone = "America/Los_Angeles"',
        "[agency]",
        'slug = "planted"',
        'name = "Planted Fire Department"',
        'time_zone = "America/Los_Angeles"',
        "[fields]",
        'external_id = "Incident Number"',
        'call_type = "Type"',
        'address = "Address"',
        'latitude = "Latitude"',
        'longitude = "Longitude"',
        'occurred_at = { column = "Datetime", formats = ["iso8601"] }',
        "[categories]",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in rows.categories.items()),
    ]
    path = tmp_path / "planted.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pages(client: TestClient, bbox: str) -> tuple[list[str], list[int]]:
    bodies, ids = [], []
    url: str | None = f"/api/v1/incidents?bbox={bbox}&limit=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        bodies.append(response.text)
        body = response.json()
        ids += [f["id"] for f in body["features"]]
        url = body["links"][0]["href"] if body["links"] else None
    return bodies, ids


def _everything_shown(client: TestClient, factory: sessionmaker[Session]) -> tuple[str, list[int]]:
    """All the platform shows: API pages, details, Atom, pages, manifest, export, events."""
    shown: list[str] = []
    ids: list[int] = []
    for place, bbox in AREAS.items():
        bodies, found = _pages(client, bbox)
        shown += bodies
        ids += found
        shown.append(client.get(f"/feeds/atom?bbox={bbox}&limit=200").text)
        lat, lon = CENTRES[place]
        shown.append(client.get(f"/?lat={lat}&lon={lon}&radius_m=25000").text)
        shown.append(client.get(f"/fragments/incidents?lat={lat}&lon={lon}&radius_m=25000").text)
    for incident_id in ids[:: max(1, len(ids) // 150)]:
        shown.append(client.get(f"/api/v1/incidents/{incident_id}").text)
        shown.append(client.get(f"/incidents/{incident_id}").text)
    shown.append(client.get("/api/v1/sources/planted-pii/policy").text)
    with factory() as session:
        export = incidents.publish_all(session, list(incidents.iter_public(session)))
        shown.append(json.dumps(feature_collection(export, None, None)))
        shown += [json.dumps(e.payload) for e in session.scalars(select(OutboxEvent))]
        for row in session.scalars(select(Incident)):  # the stored public form, withheld too
            shown.append(
                " | ".join(
                    [
                        row.title,
                        row.summary,
                        row.original_type,
                        row.address_block or "",
                        *row.visibility_reasons,
                        *row.alertable_reasons,
                    ]
                )
            )
    return "\n".join(shown), ids


def _leaks(text: str, rows: planted.Planted) -> dict[str, set[str]]:
    words = set(re.findall(r"[A-Za-z]+", text))
    digits = {
        re.sub(r"\D", "", m) for m in re.findall(r"\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}", text)
    }
    houses = {
        (number, street.lower())
        for number, street in re.findall(r"\b(\d+)[A-Za-z]?\s+([A-Za-z]+)", text)
    }
    return {
        "names": rows.names & words,
        "phones": {d[-10:] for d in digits} & rows.phones,
        "emails": set(re.findall(r"[\w.+-]+@[\w.-]+", text)) & rows.emails,
        "dobs": set(re.findall(r"\d{2}/\d{2}/\d{4}", text)) & rows.dobs,
        "plates": set(re.findall(r"[A-Z]{3}\d{4}", text)) & rows.plates,
        "cases": set(re.findall(r"\d{4}-\d{7}", text)) & rows.cases,
        "units": set(re.findall(r"\b\d{3,4}[A-D]\b", text)) & rows.units,
        "houses": {f"{n} {s}" for n, s in houses & rows.houses},
        "planted domain": {"planted-pii.example"} & {m for m in [text] if "planted-pii" in m},
    }


def test_no_planted_value_reaches_the_public(
    engine: Engine,
    factory: sessionmaker[Session],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rows = planted.generate(10_000, NOW)
    assert len(rows.rows) == 10_000
    report = service.ingest(factory, load_source_config(_source(tmp_path, rows)), now=NOW)
    assert report.received == 10_000
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as client:
        shown, ids = _everything_shown(client, factory)
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)

    # The test can fail: scrubbed text and generalized addresses really were published.
    assert len(ids) > 4000
    for marker in ("[name]", "[phone]", "[email]", "[plate]", "[dob]", "[case]", "00 block of"):
        assert marker in shown, marker
    empty: dict[str, set[str]] = {kind: set() for kind in _leaks("", rows)}
    assert _leaks(shown, rows) == empty
    assert _leaks(logged, rows) == empty

    with factory() as session:
        sensitive = session.scalars(
            select(Incident).where(Incident.external_id.in_(rows.sensitive_ids))
        ).all()
    # 1 % of the real rows they were made from have no usable point and are quarantined.
    assert len(sensitive) > 0.98 * len(rows.sensitive_ids)
    assert {i.visibility for i in sensitive} == {"withheld"}
    assert not {i.id for i in sensitive} & set(ids)
