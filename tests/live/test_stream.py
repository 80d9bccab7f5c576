"""The live stream: events of the area only, removals, resuming with Last-Event-ID."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, add_incident, alert_settings, change_incident
from tests.support.server import running
from tests.support.sse import open_stream
from tests.support.waiting import wait_for
from townsquare.db import make_sessionmaker
from townsquare.live.hub import LiveEvent
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


def test_a_change_another_process_commits_reaches_the_stream_without_the_relay_interval(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL tells other processes of a commit (LISTEN/NOTIFY)")
    settings = alert_settings(tmp_path, relay_interval_s=3600)
    platform = Platform(settings, engine, factory)
    elsewhere = make_sessionmaker(engine)  # not the platform's: no relay on its commits
    with running(platform) as base:
        url = f"{base}/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        with open_stream(url) as stream:
            stream.next("ready")
            near = add_incident(elsewhere)
            assert stream.next("incident.published").json()["id"] == near


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


def test_streams_are_bounded_per_client_address(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = alert_settings(tmp_path, stream_max_per_address=2)
    platform = Platform(settings, engine, factory)
    with running(platform) as base:
        url = f"{base}/api/v1/stream?lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        with open_stream(url) as first:
            first.next("ready")
            with open_stream(url) as second:
                second.next("ready")
                third = httpx.get(url)
                assert third.status_code == 429
                assert third.headers["content-type"] == "application/problem+json"
                assert "2 live streams are open from this address" in third.json()["detail"]
            wait_for(
                lambda: platform.hub.open_from["127.0.0.1"] == 1,
                what="the closed stream's slot to be given back",
            )
            with open_stream(url) as again:
                again.next("ready")


def test_a_stalled_reader_is_closed_and_frees_its_slot(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = alert_settings(tmp_path, stream_max_per_address=1, stream_send_timeout_s=0.5)
    platform = Platform(settings, engine, factory)
    with running(platform) as base:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((host, port))
        query = f"lat={HOME[0]}&lon={HOME[1]}&radius_m=2000"
        stalled.sendall(f"GET /api/v1/stream?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head = b""
        while b"event: ready" not in head:
            head += stalled.recv(4096)
        assert head.startswith(b"HTTP/1.1 200")
        assert platform.hub.open_from["127.0.0.1"] == 1
        big = "x" * 60_000
        sent = iter(range(1, 100_000))

        def freed() -> bool:  # the client reads nothing more; the server keeps writing
            for _ in range(8):
                platform.hub.deliver(LiveEvent(next(sent), "incident.updated", None, None, big))
            return "127.0.0.1" not in platform.hub.open_from

        wait_for(freed, what="the stalled stream to be closed", timeout=30)
        written = (next(sent) - 1) * len(big)
        print(f"stalled reader closed after {written / 1e6:.1f} MB of events were sent its way")
        with open_stream(f"{base}/api/v1/stream?{query}") as next_one:
            next_one.next("ready")
        stalled.close()
