"""CAP in, as the world sends it: every real alert read or quarantined with a reason, the
wrappers alerts come in, expiry, the sender's own severity through the real alert gate,
schema errors and a wrong namespace named."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, deliveries, platform, subscribe
from townsquare.db import utcnow
from townsquare.errors import SourceError
from townsquare.housekeeping.release import release_due
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig, bundled_mappings, load_source_config
from townsquare.ingest.models import RawRecord
from townsquare.ingest.sources.cap import CapSource
from townsquare.platform import Platform

__all__ = ["platform"]  # the fixture, from tests.support.alerts

CAP = Path(__file__).parents[1] / "data" / "cap"
NOW = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
WRONG = "wrong_namespace.xml"


def nws_mapping(path: Path) -> SourceConfig:
    """The shipped NWS CAP mapping, reading one file."""
    shipped = load_source_config(bundled_mappings()["nws_cap_alerts"])
    return shipped.model_copy(update={"location": str(path)})


def read(name: str) -> list[dict[str, str]]:
    """The records the cap reader makes of a test document."""
    return [item.payload for item in CapSource().fetch(nws_mapping(CAP / name))]


def timed(text: str, path: Path, sent: datetime, expires: datetime) -> Path:
    """The alert `text` written to `path`, sent at `sent` (also effective, onset), expiring."""
    for tag, moment in (("sent", sent), ("effective", sent), ("onset", sent), ("expires", expires)):
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        text = re.sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{stamp}</{tag}>", text)
    path.write_text(text)
    return path


def test_every_real_alert_is_read_or_quarantined_with_its_reason(
    factory: sessionmaker[Session],
) -> None:
    received = quarantined = 0
    reasons: Counter[str] = Counter()
    for path in sorted(CAP.glob("*.xml")):
        if path.name == WRONG:
            continue
        report = service.ingest(factory, nws_mapping(path), now=NOW)
        received += report.received
        quarantined += report.quarantined
        reasons.update(report.quarantined_by_field)
    # 29 documents, 33 alerts; 22 accepted, among them the IPAWS Cancel with no <info>, which
    # closes the alert it references (read before it). Quarantined: 10 given by zone codes (or
    # nothing) only, with no circle or polygon to place them; the alert that breaks its schema.
    assert (received, received - quarantined) == (33, 22)
    assert reasons == {"point": 10, "alert": 1}
    with factory() as session:
        events = set(session.scalars(select(Incident.original_type)))
    assert {"Tornado Warning", "Bushfire", "Snowfall Warning", "Local Area Emergency"} <= events


@pytest.mark.parametrize(
    ("name", "positions", "events"),
    [
        ("atom_content.xml", ["entry 1", "entry 2"], ["Snowfall Warning", "Wind Warning"]),
        ("edxl_de.xml", ["contentObject 1", "contentObject 2"], ["Bushfire", "Bushfire"]),
        (
            "cap_alerts_wrapper.xml",
            ["alert 1", "alert 2"],
            ["Evacuation Immediate", "Shelter In Place Warning"],
        ),
        ("atom_index_circle.xml", ["entry 1", "entry 2"], ["Tsunami Warning", "Flood Watch"]),
    ],
)
def test_alerts_are_read_from_every_wrapper(
    name: str, positions: list[str], events: list[str]
) -> None:
    items = list(CapSource().fetch(nws_mapping(CAP / name)))
    assert [item.position for item in items] == positions
    assert all(item.defect is None for item in items), [item.defect for item in items]
    assert [item.payload["event"] for item in items] == events
    assert all(item.payload.get("point") for item in items)  # circle or polygon, placed


def test_an_index_circle_gives_its_centre() -> None:
    first, second = read("atom_index_circle.xml")
    assert first["point"] == "46.90, -124.10"
    assert first["level"] == "5"  # Extreme, Immediate, Likely
    assert second["level"] == "3"  # Moderate, Future, Possible


def test_an_alert_already_expired_arrives_closed_at_its_expiry(
    factory: sessionmaker[Session],
) -> None:
    report = service.ingest(factory, nws_mapping(CAP / "v1dot2_appendix_adot2.xml"), now=NOW)
    assert (report.created, report.closed) == (1, 1)
    with factory() as session:
        (storm,) = session.scalars(select(Incident)).all()
    assert storm.status == "closed"
    assert storm.closed_at == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)  # 16:00 -07:00


def test_a_stored_alert_closes_when_it_expires(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sent, expires = NOW - timedelta(minutes=5), NOW + timedelta(minutes=40)
    path = timed((CAP / "tornado_warning.xml").read_text(), tmp_path / "a.xml", sent, expires)
    service.ingest(factory, nws_mapping(path), now=NOW)
    release_due(factory, now=NOW + timedelta(minutes=39))
    with factory() as session:
        assert session.scalars(select(Incident.status)).all() == ["active"]
    release_due(factory, now=NOW + timedelta(hours=1))
    with factory() as session:
        (tornado,) = session.scalars(select(Incident)).all()
    assert tornado.status == "closed"
    assert tornado.closed_at == expires


def test_an_extreme_immediate_tornado_warning_is_top_severity_and_sent_now(
    platform: Platform, tmp_path: Path
) -> None:
    now = utcnow()
    quiet = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
    }
    hook = [{"kind": "webhook", "url": "http://127.0.0.1:9/hook"}]
    subscribe(platform.factory, hook, lat=HOME[0], lon=HOME[1], radius_m=3000, quiet_hours=quiet)
    platform.relay_once()
    tornado = (CAP / "tornado_warning.xml").read_text()
    moderate = (  # the same alert, as a storm the sender expects and rates moderate
        tornado.replace("test-tornado-1", "test-storm-1")
        .replace("<event>Tornado Warning", "<event>Severe Thunderstorm Warning")
        .replace("<urgency>Immediate", "<urgency>Expected")
        .replace("<severity>Extreme", "<severity>Moderate")
    )
    frost = (CAP / "frost_advisory.xml").read_text()
    for number, text in enumerate((tornado, moderate, frost)):
        path = tmp_path / f"{number}.xml"
        timed(text, path, now - timedelta(minutes=2), now + timedelta(minutes=40))
        service.ingest(platform.factory, nws_mapping(path), now=now)
    platform.relay_once()
    with platform.factory() as session:
        severity = dict(session.execute(select(Incident.original_type, Incident.severity)).all())
        ids = dict(session.execute(select(Incident.original_type, Incident.id)).all())
    assert severity == {"Tornado Warning": 5, "Severe Thunderstorm Warning": 3, "Frost Advisory": 2}
    status = {row.incident_id: row.status for row in deliveries(platform.factory, kind="alert")}
    # Quiet hours hold everything for the digest but what must go at once; a minor advisory
    # is below the alert threshold altogether.
    assert status == {ids["Tornado Warning"]: "queued", ids["Severe Thunderstorm Warning"]: "held"}


def test_a_schema_invalid_alert_is_quarantined_with_the_schemas_message(
    factory: sessionmaker[Session],
) -> None:
    report = service.ingest(factory, nws_mapping(CAP / "schema_invalid.xml"), now=NOW)
    assert (report.received, report.quarantined) == (1, 1)
    with factory() as session:
        (raw,) = session.scalars(select(RawRecord)).all()
    assert raw.error_field == "alert"
    assert raw.error is not None
    assert raw.error.startswith("alert: alert 'broken-1': CAP 1.2 schema, line 7: ")
    assert "'Alarm' is not an element of the set" in raw.error


def test_a_wrong_namespace_names_the_one_found_and_the_one_expected() -> None:
    with pytest.raises(SourceError) as caught:
        read(WRONG)
    message = str(caught.value)
    assert "found <alert> in urn:oasis:names:tc:emergency:cap:2.0" in message
    assert "expected a CAP alert in urn:oasis:names:tc:emergency:cap:1.2" in message
