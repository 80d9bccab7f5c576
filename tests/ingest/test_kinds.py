"""The socrata and json kinds over real local HTTP: paging, tokens, incremental reads, errors,
nested paths and the coordinate quirks real feeds have."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import FeedServer, Reply, Request, config, static
from townsquare.errors import SourceError
from townsquare.incidents.models import Incident
from townsquare.ingest import health, service
from townsquare.ingest.models import RawRecord, Source
from townsquare.ingest.sources.socrata import SocrataSource

DATA = Path(__file__).parents[1] / "data" / "socrata_soda_wire_format"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


def test_socrata_pages_real_responses_with_the_app_token(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = {
        "0": (DATA / "bike_counts_page_1.json").read_bytes(),
        "1000": (DATA / "bike_counts_page_2.json").read_bytes(),
    }

    def resource(request: Request) -> Reply:
        body = pages.get(request.query["$offset"], b"[]")
        return Reply(200, body, {"Content-Type": "application/json; charset=utf-8"})

    server.routes["/resource/2rva-6ex8.json"] = resource
    monkeypatch.setenv("TEST_SODA_TOKEN", "abc123")
    source = config(
        "socrata",
        f"{server.url}/resource/2rva-6ex8.json",
        http={"token_env": "TEST_SODA_TOKEN"},
    )
    items = list(SocrataSource().fetch(source))
    assert len(items) == 1001
    # Every value stays the string Socrata sent; the leading-comma layout parses as JSON.
    assert items[0].payload == {
        "id": "100009424",
        "date": "2016-09-21T15:45:00.000",
        "counts": "100",
        "status": "0",
    }
    assert items[-1].position == "page 2 row 1"
    asked = server.hits("/resource/2rva-6ex8.json")
    assert [r.query["$offset"] for r in asked] == ["0", "1000"]
    assert {r.query["$limit"] for r in asked} == {"1000"}
    assert {r.query["$order"] for r in asked} == {":id"}
    assert {r.headers["x-app-token"] for r in asked} == {"abc123"}


def test_socrata_error_body_is_the_source_error(server: FeedServer) -> None:
    body = (DATA / "403_response_json.txt").read_bytes()
    server.routes["/resource/kzjm-xkqj.json"] = lambda _: Reply(
        403, body, {"Content-Type": "application/json"}
    )
    source = config("socrata", f"{server.url}/resource/kzjm-xkqj.json")
    with pytest.raises(SourceError, match=r"HTTP 403: You must be logged in to access"):
        list(SocrataSource().fetch(source))


def _soda_row(number: int, minute: int, **cells: str) -> dict[str, str]:
    row = {
        "address": f"{400 + number} Pine St",
        "type": "Motor Vehicle Accident",
        "datetime": f"2026-11-28T03:{minute:02d}:00.000",
        "latitude": "47.6126",
        "longitude": "-122.3344",
        "incident_number": f"F26{number:06d}",
    }
    row.update(cells)
    return row


def test_socrata_incremental_reads_ask_only_for_newer_rows(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    rows = [_soda_row(n, n) for n in range(1, 6)]

    def resource(request: Request) -> Reply:
        where = request.query.get("$where", "")
        since = where.split("'")[1] if "'" in where else ""
        fresh = [r for r in rows if r["datetime"] > since]
        fresh.sort(key=lambda r: r["datetime"])
        offset, limit = int(request.query["$offset"]), int(request.query["$limit"])
        # SODA's own layout: one row per line, leading commas.
        text = "[" + "\n,".join(json.dumps(r) for r in fresh[offset : offset + limit]) + "]"
        return Reply(200, text.encode(), {"Content-Type": "application/json"})

    server.routes["/resource/kzjm-xkqj.json"] = resource
    source = config(
        "socrata",
        f"{server.url}/resource/kzjm-xkqj.json",
        socrata={"page_size": 2, "order": "datetime", "since_column": "datetime"},
    )
    first = service.poll(factory, source, now=NOW)
    assert first is not None
    assert (first.received, first.created) == (5, 5)
    rows.append(_soda_row(6, 30))
    second = service.poll(factory, source, now=NOW)
    assert second is not None
    assert (second.received, second.created) == (1, 1)
    last = server.requests[-1]
    assert last.query["$where"] == "datetime > '2026-11-28T03:05:00.000'"
    with factory() as session:
        stored = session.scalar(select(Source))
        assert stored is not None
        assert stored.cursor is not None
        assert stored.cursor["since"] == "2026-11-28T03:30:00.000"
        newest = session.scalar(select(Incident).where(Incident.external_id == "F26000006"))
        assert newest is not None
        # Floating timestamp read as Seattle local time (PST, UTC-8).
        assert newest.occurred_at == datetime(2026, 11, 28, 11, 30, tzinfo=UTC)
        assert newest.address_block == "400 block of Pine St"


def test_json_nested_paths_micro_degrees_pairs_and_bad_coordinates(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    def call(number: str, position: dict[str, Any], kind: str = "Aid Response") -> dict[str, Any]:
        return {
            "call": {"id": number, "nature": {"text": kind}},
            "when": {"epoch_ms": 1795864800000},
            "where": {"street": "1520 2nd Ave", **position},
        }

    document = {
        "meta": {"count": 5},
        "data": {
            "calls": [
                call("A1", {"lat_e6": 47610400, "lon_e6": -122338800}, "Motor Vehicle Accident"),
                call("A2", {"lat_e6": 47612600, "lon_e6": -122334400}),
                call("A3", {"lat_e6": -122334400, "lon_e6": 47612600}),  # swapped
                call("A4", {"lat_e6": 0, "lon_e6": 0}),  # no position
                call("A5", {"lat_e6": 47620000, "lon_e6": -122350000}, "Gas Main Break"),
            ]
        },
    }
    body = json.dumps(document).encode()
    server.routes["/calls.json"] = static(body, "application/json")
    fields = {
        "external_id": "call.id",
        "call_type": "call.nature.text",
        "address": "where.street",
        "latitude": {"column": "where.lat_e6", "scale": 1e-6},
        "longitude": {"column": "where.lon_e6", "scale": 1e-6},
        "occurred_at": {"column": "when.epoch_ms", "formats": ["epoch_ms"]},
    }
    source = config(
        "json", f"{server.url}/calls.json", fields=fields, json={"records": "data.calls"}
    )
    report = service.ingest(factory, source, now=NOW)
    assert (report.received, report.created, report.quarantined) == (5, 3, 2)
    with factory() as session:
        reasons = sorted(
            session.scalars(select(RawRecord.error).where(RawRecord.outcome == "quarantined"))
        )
        assert len(reasons) == 2
        assert any("the coordinates look swapped" in (r or "") for r in reasons)
        assert any("(0, 0) is a placeholder" in (r or "") for r in reasons)
        crash = session.scalar(select(Incident).where(Incident.external_id == "A1"))
        assert crash is not None
        assert crash.category == "traffic.collision"
        assert crash.address_block == "1500 block of 2nd Ave"
        assert crash.occurred_at == datetime(2026, 11, 28, 11, 20, tzinfo=UTC)
        assert abs(crash.lat - 47.6104) < 0.003
        assert abs(crash.lon + 122.3388) < 0.003
        # A call type the mapping does not know is published under "other", never alerted.
        unknown = session.scalar(select(Incident).where(Incident.external_id == "A5"))
        assert unknown is not None
        assert (unknown.category, unknown.alertable) == ("other", False)
        assert (
            unknown.alertable_reasons[0]
            == "not alerted: call type 'Gas Main Break' is not mapped yet"
        )
        assert health.unknown_types(session, source.slug) == [("Gas Main Break", 1)]


def test_json_pairs_as_lat_lon_strings(server: FeedServer, factory: sessionmaker[Session]) -> None:
    records = [
        {
            "id": "P1",
            "type": "Motor Vehicle Accident",
            "t": "2026-11-28T03:05:00-08:00",
            "at": "(47.6126, -122.3344)",
        },
        {
            "id": "P2",
            "type": "Motor Vehicle Accident",
            "t": "2026-11-28T03:06:00-08:00",
            "at": "(-122.3344, 47.6126)",
        },
    ]
    server.routes["/pairs.json"] = static(json.dumps(records).encode(), "application/json")
    fields = {
        "external_id": "id",
        "call_type": "type",
        "location": {"column": "at", "order": "lat_lon"},
        "occurred_at": {"column": "t", "formats": ["iso8601"]},
    }
    report = service.ingest(factory, config("json", f"{server.url}/pairs.json", fields=fields))
    assert (report.created, report.quarantined) == (1, 1)
    assert dict(report.quarantined_by_field) == {"at": 1}
