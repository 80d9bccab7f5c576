"""A batch's new rows written in one statement per table, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.agencies.models import Agency
from townsquare.events.outbox import OutboxEvent, announce_many
from townsquare.incidents.models import Incident
from townsquare.ingest import bulk
from townsquare.ingest.models import RawRecord, Source

AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def _source(session: Session) -> Source:
    agency = Agency(slug="bulk", name="Bulk Fire", time_zone="UTC")
    session.add(agency)
    session.flush()
    source = Source(slug="bulk-feed", name="Bulk feed", kind="csv", agency_id=agency.id, config={})
    session.add(source)
    session.flush()
    return source


def _incident(source: Source, external_id: str, reasons: list[str]) -> Incident:
    return bulk.fresh(
        Incident,
        {
            "origin": "dispatch",
            "source_id": source.id,
            "external_id": external_id,
            "agency_id": source.agency_id,
            "category": "fire.structure",
            "original_type": "Structure Fire",
            "title": "Structure Fire",
            "summary": "Bulk Fire dispatched 2 units.",
            "address_block": "1200 block of Pine St",
            "lat": 47.61,
            "lon": -122.33,
            "location_precision": "coordinates",
            "h3_r5": 1,
            "h3_r7": 2,
            "h3_r9": 3,
            "occurred_at": AT,
            "published_at": AT,
            "updated_at": AT,
            "status": "closed" if reasons else "active",
            "closed_at": AT if reasons else None,
            "severity": 4,
            "visibility": "withheld" if reasons else "public",
            "visibility_reasons": reasons,
            "alertable": not reasons,
            "alertable_reasons": [],
            "unit_count": 2,
            "content_hash": external_id * 8,
        },
    )


def test_new_incidents_get_their_ids_and_read_back_as_written(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        source = _source(session)
        fresh = [
            _incident(source, f"C{n}", ["withheld: medical call"] if n % 2 else [])
            for n in range(3)
        ]
        bulk.insert_incidents(session, source.id, fresh)
        ids = {incident.external_id: incident.id for incident in fresh}
    with factory() as session:
        stored = session.scalars(select(Incident).order_by(Incident.id)).all()
        assert {incident.external_id: incident.id for incident in stored} == ids
        closed = session.get_one(Incident, ids["C1"])
        assert closed.visibility_reasons == ["withheld: medical call"]
        assert (closed.status, closed.closed_at, closed.alertable) == ("closed", AT, False)
        assert session.get_one(Incident, ids["C0"]).occurred_at == AT


def test_fresh_raw_records_keep_their_order_and_later_changes(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        source = _source(session)
        raws = [
            bulk.fresh(
                RawRecord,
                {
                    "source_id": source.id,
                    "position": f"line {n}",
                    "content_hash": f"{n:064d}",
                    "payload": '{"id": "ünïcode\\ttab"}',
                    "received_at": AT,
                    "outcome": "quarantined",
                    "error": "not yet processed",
                },
            )
            for n in range(3)
        ]
        bulk.assign(raws[1], {"outcome": "normalized", "error": None, "external_id": "C1"})
        bulk.insert_rows(session, raws)
    with factory() as session:
        stored = session.scalars(select(RawRecord).order_by(RawRecord.id)).all()
        assert [raw.position for raw in stored] == ["line 0", "line 1", "line 2"]
        assert [raw.outcome for raw in stored] == ["quarantined", "normalized", "quarantined"]
        assert stored[1].external_id == "C1"
        assert stored[1].error is None
        assert stored[0].payload == '{"id": "ünïcode\\ttab"}'


def test_a_batch_of_events_is_queued_in_order(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        announce_many(session, [("incident.published", {"id": n}) for n in (3, 1, 2)])
    with factory() as session:
        events = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert [event.payload["id"] for event in events] == [3, 1, 2]
        assert all(event.relayed_at is None for event in events)
