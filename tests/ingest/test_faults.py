"""Faults of real servers: 500s, timeouts, truncated bodies, web pages instead of feeds, a
failure in the middle of paging. The error is recorded on the source, what was read before
it is kept, and an interrupted snapshot closes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import SNAPSHOTS, FeedServer, Reply, Request, arcgis_layer
from townsquare.errors import SourceError
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig, bundled_mappings, load_source_config
from townsquare.ingest.models import RawRecord, Source

PATH = "/arcgis/rest/services/HEC/MapServer/0/query"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


def _houston(server: FeedServer, **http: Any) -> SourceConfig:
    shipped = load_source_config(bundled_mappings()["houston_active_incidents"])
    return shipped.model_copy(
        update={
            "location": f"{server.url}/arcgis/rest/services/HEC/MapServer/0",
            "arcgis": shipped.arcgis.model_copy(update={"page_size": 40}),
            "http": shipped.http.model_copy(update=http),
        }
    )


def _source(factory: sessionmaker[Session]) -> Source:
    with factory() as session:
        found = session.scalar(select(Source))
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(500, b"<html>Internal Server Error</html>"), "HTTP 500"),
        (Reply(200, b'{"features": [{"attributes": {"UID": 1', {}), "invalid JSON"),
        (Reply(200, b'{"features": []}' * 2, {"Content-Length": "999"}, cut_at=10), "Protocol"),
        (
            Reply(200, b"<html><body>Please log in</body></html>", {"Content-Type": "text/html"}),
            "a web page",
        ),
        (
            Reply(
                200,
                b'{"error": {"code": 400, "message": "Invalid or missing input parameters.",'
                b' "details": ["\'where\' parameter is invalid"]}}',
            ),
            "ArcGIS error 400: Invalid or missing input parameters",
        ),
    ],
    ids=["500", "truncated-json", "truncated-transfer", "html", "arcgis-error"],
)
def test_a_broken_answer_is_a_recorded_source_error(
    server: FeedServer, factory: sessionmaker[Session], reply: Reply, message: str
) -> None:
    server.routes[PATH] = lambda _: reply
    with pytest.raises(SourceError, match=message):
        service.ingest(factory, _houston(server))
    source = _source(factory)
    assert source.last_error is not None
    assert message.split(":")[0] in source.last_error
    assert source.failures == 1


def test_a_timeout_is_bounded(server: FeedServer, factory: sessionmaker[Session]) -> None:
    server.routes[PATH] = lambda _: Reply(200, b'{"features": []}', delay_s=3)
    with pytest.raises(SourceError, match=r"timed out after 0\.5 s"):
        service.ingest(factory, _houston(server, timeout_s=0.5))


def test_a_fault_mid_paging_keeps_what_was_read_and_closes_nothing(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    first_at, first = SNAPSHOTS[0]
    second_at, second = SNAPSHOTS[1]
    document = {"current": first}
    layer = arcgis_layer(lambda: document["current"])

    def flaky(request: Request) -> Reply:
        if document["current"] is second and request.query.get("resultOffset") == "40":
            return Reply(500, b'{"error": {"code": 500, "message": "Error performing query"}}')
        return layer(request)

    server.routes[PATH] = flaky
    config = _houston(server)
    service.ingest(factory, config, now=first_at)
    document["current"] = second
    with pytest.raises(SourceError, match="Error performing query"):
        service.ingest(factory, config, now=second_at)
    with factory() as session:
        # The first page of the second snapshot (40 rows) was stored before the fault...
        stored = session.scalar(
            select(func.count()).select_from(RawRecord).where(RawRecord.received_at == second_at)
        )
        assert stored is not None
        assert 0 < stored <= 40
        # ...and no call was closed by a snapshot that was never read whole.
        closed = session.scalar(
            select(func.count()).select_from(Incident).where(Incident.status == "closed")
        )
        assert closed == 0


def test_a_bad_record_never_stops_the_batch(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    at, snapshot = SNAPSHOTS[0]
    features = list(snapshot["features"])
    broken = json.loads(json.dumps(features[5]))
    broken["attributes"]["LATITUDE"] = "north"
    features[5] = broken
    features.insert(7, "not a feature")
    server.routes[PATH] = arcgis_layer(lambda: {**snapshot, "features": features})
    report = service.ingest(factory, _houston(server), now=at + timedelta(minutes=1))
    assert report.received == 115
    assert report.quarantined == 2
    assert report.created + report.merged == 113
