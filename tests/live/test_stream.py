"""The live stream: events of the area only, removals, resuming with Last-Event-ID."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, add_incident, alert_settings, change_incident
from tests.support.server import running
from tests.support.sse import open_stream
from townsquare.platform import Platform


def test_stream_sends_the_areas_incidents_then_their_removal(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    platform = Platform(alert_settings(tmp_path), engine, factory)
    with running(platform) as base:
        url = f"{base}/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        with open_stream(url) as stream:
            stream.next("ready")
            far = add_incident(factory, lat=HOME[0] + 0.1)
            near = add_incident(factory)
            published = stream.next()
            assert published.name == "incident.published"
            feature = published.json()
            assert feature["id"] == near
            assert feature["type"] == "Feature"
            change_incident(factory, near, visibility="removed")
            removed = stream.next()
            assert (removed.name, removed.json()) == ("incident.removed", {"id": near})
            assert far not in {e.json().get("id") for e in stream.quiet(0.5)}


def test_stream_resumes_after_the_last_event_id(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    platform = Platform(alert_settings(tmp_path), engine, factory)
    with running(platform) as base:
        box = f"{HOME[1] - 0.02},{HOME[0] - 0.02},{HOME[1] + 0.02},{HOME[0] + 0.02}"
        url = f"{base}/api/v1/stream?bbox={box}"
        with open_stream(url) as stream:
            stream.next("ready")
            first = add_incident(factory)
            seen = stream.next("incident.published")
            assert seen.json()["id"] == first
        missed = [add_incident(factory, lat=HOME[0] + 0.001 * i) for i in range(3)]
        add_incident(factory, lat=HOME[0] + 0.5)  # outside the box: not in the backlog
        platform.relay_once()
        assert seen.id is not None
        with open_stream(url, headers={"Last-Event-ID": seen.id}) as stream:
            got = [stream.next().json()["id"] for _ in missed]
            assert got == missed
            assert stream.quiet(0.3) == []
        bad = httpx.get(url, headers={"Last-Event-ID": "yesterday"})
        assert bad.status_code == 422
        assert bad.json()["parameter"] == "Last-Event-ID"


def test_an_id_no_stream_sent_is_refused_or_read_as_none(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    platform = Platform(alert_settings(tmp_path), engine, factory)
    with running(platform) as base:
        url = f"{base}/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        for garbage in ("\u00b2", "9" * 5000, str(2**63), str(2**64), "-1", "7.5"):
            bad = httpx.get(url, headers={"Last-Event-ID": garbage.encode()})
            assert bad.status_code == 422, garbage
            assert bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["parameter"] == "Last-Event-ID"
        # In range but past every event (2^31 is past PostgreSQL's column): a fresh start.
        for ahead in (str(2**31), str(2**63 - 1)):
            with open_stream(url, headers={"Last-Event-ID": ahead}) as stream:
                stream.next("ready")
                near = add_incident(factory)
                assert stream.next("incident.published").json()["id"] == near
