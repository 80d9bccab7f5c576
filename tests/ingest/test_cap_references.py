"""CAP alerts that act on earlier ones: an Update updates the incident of the alert it
references, a Cancel (with or without an info) closes the incidents of every alert it
references at its own `sent`; event names match however they are cased."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.ingest.test_cap_alerts import CAP, NOW, nws_mapping, read
from townsquare.incidents.models import Incident
from townsquare.ingest import service
from townsquare.ingest.models import RawRecord
from townsquare.ingest.normalize import normalize
from townsquare.ingest.sources.cap import CapSource

NV_ALERT = "ipaws-0-nv-alert-cancelled.xml"
NV_CANCEL = "ipaws-5e6dd9de023f1930ef6548d9.xml"  # real: msgType Cancel, no <info>
NV_ID = "AS-NV-e18921c7-1b35-4a81-9705-42d25c265ddd"
CANCELLED_AT = datetime(2019, 4, 19, 17, 46, 20, tzinfo=UTC)  # the Cancel's sent, -06:00


def ingest(factory: sessionmaker[Session], path: Path) -> service.IngestReport:
    """One document into the shipped NWS mapping's source."""
    return service.ingest(factory, nws_mapping(path), now=NOW)


def incidents(factory: sessionmaker[Session]) -> list[Incident]:
    """Every incident, oldest first."""
    with factory() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_a_cancel_with_no_info_closes_the_alert_it_references_at_its_sent(
    factory: sessionmaker[Session],
) -> None:
    ingest(factory, CAP / NV_ALERT)
    (alert,) = incidents(factory)
    assert alert.status == "active"
    report = ingest(factory, CAP / NV_CANCEL)
    assert (report.received, report.quarantined, report.closed) == (1, 0, 1)
    (closed,) = incidents(factory)
    assert (closed.id, closed.status, closed.closed_at) == (alert.id, "closed", CANCELLED_AT)
    assert closed.original_type == "Local Area Emergency"  # the alert's words stay
    with factory() as session:
        cancel = session.scalars(select(RawRecord).order_by(RawRecord.id.desc())).first()
    assert cancel is not None
    assert (cancel.outcome, cancel.incident_id, cancel.external_id) == (
        "normalized",
        alert.id,
        NV_ID,
    )


def test_a_cancel_of_alerts_not_received_is_quarantined_naming_them(
    factory: sessionmaker[Session],
) -> None:
    report = ingest(factory, CAP / NV_CANCEL)
    assert report.quarantined_by_field == {"refers": 1}
    with factory() as session:
        (raw,) = session.scalars(select(RawRecord)).all()
    assert raw.error == f"refers: closes records not received (yet): {NV_ID}"
    assert incidents(factory) == []


def test_a_cancel_with_an_info_closes_every_alert_it_references(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    tornado = (CAP / "tornado_warning.xml").read_text()
    first = tornado.replace("test-tornado-1", "test-tornado-a")
    second = tornado.replace("test-tornado-1", "test-tornado-b").replace("47.6", "47.5")
    (tmp_path / "a.xml").write_text(first.replace("2026-12-07T15:45", "2026-12-07T18:45"))
    (tmp_path / "b.xml").write_text(second.replace("2026-12-07T15:45", "2026-12-07T18:45"))
    sender, sent = "w-nws.webmaster@noaa.gov", "2026-12-07T15:02:00-06:00"
    refs = " ".join(f"{sender},urn:oid:2.49.0.1.840.0.test-tornado-{x},{sent}" for x in "ab")
    cancel = (
        first.replace("test-tornado-a", "test-tornado-cancel")
        .replace("<msgType>Alert</msgType>", "<msgType>Cancel</msgType>")
        .replace(
            "<scope>Public</scope>", f"<scope>Public</scope>\n  <references>{refs}</references>"
        )
        .replace("<sent>2026-12-07T15:02:00-06:00", "<sent>2026-12-07T15:20:00-06:00")
    )
    (tmp_path / "cancel.xml").write_text(cancel)
    for name in ("a.xml", "b.xml"):
        ingest(factory, tmp_path / name)
    assert [i.status for i in incidents(factory)] == ["active", "active"]
    report = ingest(factory, tmp_path / "cancel.xml")
    assert (report.created, report.closed) == (0, 2)
    cancelled = datetime(2026, 12, 7, 21, 20, tzinfo=UTC)
    assert [(i.status, i.closed_at) for i in incidents(factory)] == [("closed", cancelled)] * 2


def test_an_update_updates_the_incident_of_the_alert_it_references(
    factory: sessionmaker[Session],
) -> None:
    ingest(factory, CAP / "earthquake_alert.xml")
    (alert,) = incidents(factory)
    assert "not yet been reviewed" in alert.summary
    report = ingest(factory, CAP / "v1dot2_appendix_adot3.xml")  # Update of TRI13970876.1
    assert (report.created, report.updated) == (0, 1)
    (updated,) = incidents(factory)
    assert updated.id == alert.id
    assert "has now been reviewed by a seismologist" in updated.summary
    assert "dispatched" not in updated.summary


def test_an_update_acts_on_the_earliest_alert_it_references_however_listed(
    tmp_path: Path,
) -> None:
    (update,) = read("google-PAAQ-4-mg5a94.xml")
    assert update["incident"] == "PAAQ-1-mg5a94"
    assert update["refers"] == "PAAQ-1-mg5a94 PAAQ-2-mg5a94 PAAQ-3-mg5a94"
    text = (CAP / "google-PAAQ-4-mg5a94.xml").read_text()
    shuffled = text.replace(
        "wcatwc@noaa.gov,PAAQ-1-mg5a94,2013-01-05T09:01:16-00:00 "
        "wcatwc@noaa.gov,PAAQ-2-mg5a94,2013-01-05T09:30:16-00:00",
        "wcatwc@noaa.gov,PAAQ-2-mg5a94,2013-01-05T09:30:16-00:00 "
        "wcatwc@noaa.gov,PAAQ-1-mg5a94,2013-01-05T09:01:16-00:00",
    )
    assert shuffled != text
    (tmp_path / "shuffled.xml").write_text(shuffled)
    (item,) = CapSource().fetch(nws_mapping(tmp_path / "shuffled.xml"))
    assert item.payload["incident"] == "PAAQ-1-mg5a94"


def test_event_names_match_however_cased_spaced_or_suffixed(tmp_path: Path) -> None:
    config = nws_mapping(CAP / "tornado_warning.xml")
    (item,) = CapSource().fetch(config)
    found = {}
    for event in (
        "SEVERE THUNDERSTORM WARNING",
        "Tornado warning",
        "  tornado\n  WARNING ",
        "Bushfire Advisory",
        "EARTHQUAKE STATEMENT",
        "Unheard Of Event",
    ):
        payload = {**item.payload, "event": event}
        record = normalize(type(item)(item.position, payload), config)
        found[event] = (record.category, record.mapped)
    assert found == {
        "SEVERE THUNDERSTORM WARNING": ("safety.weather", True),
        "Tornado warning": ("safety.weather", True),
        "  tornado\n  WARNING ": ("safety.weather", True),
        "Bushfire Advisory": ("fire.wildland", True),
        "EARTHQUAKE STATEMENT": ("safety.public_alert", True),
        "Unheard Of Event": ("other", False),
    }
