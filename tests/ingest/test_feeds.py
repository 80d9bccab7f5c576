"""XML and EIDO kinds: the NWS CAP index, Update/Cancel on the alert they reference, GeoRSS
order, XML bombs refused, and EIDO person/call components never stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import FeedServer, config, static
from townsquare.app import create_app
from townsquare.db import transaction
from townsquare.errors import SourceError
from townsquare.incidents.models import Incident
from townsquare.ingest import pushed, service
from townsquare.ingest.config import SourceConfig, bundled_mappings, load_source_config
from townsquare.ingest.models import RawRecord
from townsquare.ingest.sources.cap import CapSource
from townsquare.platform import Platform
from townsquare.settings import Settings

SAMPLES = Path(service.__file__).parents[1] / "samples"
CAP = Path(__file__).parents[1] / "data" / "cap_alerts"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol9;</title></entry></feed>"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A started local feed server."""
    with FeedServer() as running:
        yield running


def _nws(url: str) -> SourceConfig:
    shipped = load_source_config(bundled_mappings()["nws_cap_alerts"])
    return shipped.model_copy(update={"location": url})


def test_the_nws_cap_index_becomes_incidents(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    body = (SAMPLES / "nws_cap_alerts" / "nws_atom_feed_example_cap11.xml").read_bytes()
    server.routes["/alerts/active.atom"] = static(body, "application/atom+xml")
    report = service.ingest(factory, _nws(f"{server.url}/alerts/active.atom"), now=NOW)
    # 163 entries: 99 with a polygon become incidents, 64 given by zone codes only have no
    # position and are quarantined on it.
    assert (report.received, report.created, report.quarantined) == (163, 99, 64)
    assert dict(report.quarantined_by_field) == {"point": 64}
    with factory() as session:
        wind = session.scalar(
            select(Incident).where(Incident.original_type == "Severe Thunderstorm Warning")
        )
        assert wind is not None
        assert wind.category == "safety.weather"
        assert wind.visibility == "public"
        assert wind.occurred_at.tzinfo is not None


def _cap_source(tmp_path: Path) -> SourceConfig:
    shipped = load_source_config(bundled_mappings()["nws_cap_alerts"])
    return shipped.model_copy(update={"location": str(tmp_path / "alert.xml")})


def test_cap_update_and_cancel_act_on_the_referenced_alert(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    source = _cap_source(tmp_path)
    first = (CAP / "v1dot2_appendix_adot3.xml").read_text()
    # The original report this Update references, then the Update itself (the spec's).
    original = first.replace("TRI13970876.2", "TRI13970876.1").replace(
        "<msgType>Update</msgType>", "<msgType>Alert</msgType>"
    )
    original = original.replace("2003-06-11T20:56:00-07:00", "2003-06-11T20:30:00-07:00", 1)
    path = tmp_path / "alert.xml"
    for text in (first, original):  # the update arrives first: the older alert never wins
        path.write_text(text)
        service.ingest(factory, source, now=NOW)
    with factory() as session:
        (quake,) = session.scalars(select(Incident)).all()
        assert quake.external_id == "TRI13970876.1"
        assert quake.status == "active"
        assert quake.category == "safety.public_alert"
    cancel = first.replace("<msgType>Update</msgType>", "<msgType>Cancel</msgType>").replace(
        "2003-06-11T20:56:00-07:00", "2003-06-11T21:10:00-07:00", 1
    )
    path.write_text(cancel)
    report = service.ingest(factory, source, now=NOW)
    assert report.closed == 1
    with factory() as session:
        (quake,) = session.scalars(select(Incident)).all()
        assert quake.status == "closed"
        assert quake.closed_at == datetime(2003, 6, 12, 4, 10, tzinfo=UTC)


def test_a_signed_alert_is_accepted(tmp_path: Path) -> None:
    source = _cap_source(tmp_path)
    (tmp_path / "alert.xml").write_bytes((CAP / "google-PAAQ-4-mg5a94.xml").read_bytes())
    (item,) = CapSource().fetch(source)
    assert item.payload["event"] == "Tsunami Cancellation"
    assert item.payload["incident"] == "PAAQ-1-mg5a94"  # the first referenced alert
    assert item.payload["point"] == "55.3, -134.9"


def test_an_xml_bomb_is_refused_before_expansion(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    server.routes["/bomb.atom"] = static(BOMB, "application/atom+xml")
    source = _nws(f"{server.url}/bomb.atom")
    started = time.perf_counter()
    with pytest.raises(SourceError, match="refused XML"):
        service.ingest(factory, source, now=NOW)
    # Not a timing assertion: only that the parser never expanded 10^9 entities.
    assert time.perf_counter() - started < 30
    with factory() as session:
        assert session.scalar(select(RawRecord)) is None


def test_georss_points_are_latitude_first(
    server: FeedServer, factory: sessionmaker[Session]
) -> None:
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:georss="http://www.georss.org/georss">
  <title>Dispatch</title><id>urn:x</id><updated>2026-11-28T03:10:00-08:00</updated>
  <entry><id>urn:call:F1</id><title>Motor Vehicle Accident</title>
    <updated>2026-11-28T03:05:00-08:00</updated><summary>1500 Pine St</summary>
    <georss:point>47.6150 -122.3300</georss:point></entry>
</feed>"""
    server.routes["/dispatch.atom"] = static(feed, "application/atom+xml")
    fields = {
        "external_id": "id",
        "call_type": "title",
        "address": "summary",
        "location": {"column": "point", "order": "lat_lon"},
        "occurred_at": {"column": "updated", "formats": ["iso8601"]},
    }
    source = config("atom", f"{server.url}/dispatch.atom", fields=fields)
    report = service.ingest(factory, source, now=NOW)
    assert report.created == 1
    with factory() as session:
        (call,) = session.scalars(select(Incident)).all()
        assert abs(call.lat - 47.615) < 0.003
        assert abs(call.lon + 122.33) < 0.003
        assert call.address_block == "1500 block of Pine St"


@pytest.fixture
def eido(factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> SourceConfig:
    """The shipped EIDO push source, registered, with credentials."""
    monkeypatch.setenv("TOWNSQUARE_PUSH_NENA_EIDO_KEY", "k")
    monkeypatch.setenv("TOWNSQUARE_PUSH_NENA_EIDO_SECRET", "s")
    source = load_source_config(bundled_mappings()["nena_eido"])
    with transaction(factory) as session:
        service.ensure_source(session, source)
    return source


def _post(client: TestClient, body: bytes) -> int:
    stamp = int(time.time())
    headers = {
        "X-Townsquare-Key": "k",
        "X-Townsquare-Timestamp": str(stamp),
        "X-Townsquare-Signature": pushed.sign("s", stamp, body),
    }
    answer = client.post("/api/v1/sources/nena-eido/records", content=body, headers=headers)
    return answer.status_code


def test_eido_person_and_call_components_are_never_stored(
    engine: Engine, factory: sessionmaker[Session], eido: SourceConfig, tmp_path: Path
) -> None:
    sample = (SAMPLES / "nena_eido" / "Sample call transfer EIDO.json").read_bytes()
    document = json.loads(sample)
    incident = {
        **document,
        "$id": "urn:emergency:uid:incidentid:b1:county",
        "lastUpdateTimeStamp": "2026-11-28T06:50:00-05:00",
        "incidentComponent": [
            {
                "$id": "urn:emergency:uid:incidentid:b1:county",
                "incidentTypeCommonRegistryText": "Traffic Crash",
                "incidentStatusCommonRegistryText": "Dispatched",
                "incidentCreationTimestamp": "2026-11-28T06:45:00-05:00",
                "locationReference": {"$ref": "loc-1"},
            }
        ],
        "locationComponent": [
            {
                "$id": "loc-1",
                "locationByValue": '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity='
                '"pres:alice@example.com"><gml:pos xmlns:gml="http://www.opengis.net/gml">'
                "39.7447 -75.5484</gml:pos><civicAddress><HNO>1234</HNO><RD>Market</RD>"
                "<STS>St</STS><A3>Wilmington</A3></civicAddress></presence>",
            }
        ],
    }
    closed = {
        **incident,
        "lastUpdateTimeStamp": "2026-11-28T07:30:00-05:00",
        "incidentComponent": [
            {
                **incident["incidentComponent"][0],
                "incidentStatusCommonRegistryText": "Closed",
            }
        ],
    }
    platform = Platform(Settings(data_dir=tmp_path), engine, factory)
    with TestClient(create_app(platform=platform)) as client:
        assert _post(client, sample) == 202  # a call transfer: kept, quarantined
        assert _post(client, json.dumps(closed).encode()) == 202  # newer, arrives first
        assert _post(client, json.dumps(incident).encode()) == 202  # older: never wins
    with factory() as session:
        stored = " ".join(session.scalars(select(RawRecord.payload)))
        for private in (
            "alice",
            "8195551212",
            "tjones",
            "personIncidentRoleRegistryText",
            "callBackInformationUri",
            "Diamond State",
        ):
            assert private not in stored
        (crash,) = session.scalars(select(Incident)).all()
        assert (crash.category, crash.address_block) == (
            "traffic.collision",
            "1200 block of Market St",
        )
        assert crash.occurred_at == datetime(2026, 11, 28, 11, 45, tzinfo=UTC)
        assert crash.status == "closed"
        assert crash.closed_at == datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
        quarantined = session.scalar(select(RawRecord).where(RawRecord.outcome == "quarantined"))
        assert quarantined is not None
        assert quarantined.error_field == "incident.incidentTypeCommonRegistryText"
