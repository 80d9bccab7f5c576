"""A curator's "send as an alert" goes now to every area that asked for its category.

It overrides the area's severity choices (the "at once from" threshold that would hold it
for the digest, and the minimum), not its category choice nor its quiet hours.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import add_incident, deliveries, subscribe
from townsquare.alerts import curated, matching
from townsquare.db import transaction, utcnow
from townsquare.events import topics
from townsquare.incidents.models import Incident
from townsquare.platform import Platform

HOOK = {"kind": "webhook", "url": "https://hooks.example.org/in"}
QUIET = {"start": "22:00", "end": "07:00", "time_zone": "UTC"}
NIGHT = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)


def curate(factory: sessionmaker[Session], incident_id: int) -> None:
    """What the desk's "send as an alert" does to the incident."""
    with transaction(factory) as session:
        row = session.get_one(Incident, incident_id)
        row.alertable = True
        row.alertable_reasons = [f"{matching.CURATED} road closed by the fire"]


def outcome(factory: sessionmaker[Session], incident_id: int) -> curated.CuratedOutcome:
    with factory() as session:
        return curated.outcome(session, incident_id, utcnow())


def test_a_curated_alert_that_was_held_for_the_digest_goes_now(platform: Platform) -> None:
    factory = platform.factory
    subscribe(factory, [HOOK])  # the defaults: below severity 4 waits for the digest
    platform.relay_once()
    incident_id = add_incident(factory, category="fire.vehicle")  # severity 3
    platform.relay_once()
    assert [d.status for d in deliveries(factory)] == ["held"]
    assert outcome(factory, incident_id).sentence().startswith("sent now 0, held 1")

    curate(factory, incident_id)
    assert platform.alerts.decide_now(incident_id) == 1
    assert [d.status for d in deliveries(factory)] == ["queued"]
    assert outcome(factory, incident_id).sentence() == "sent now 1, held 0"


def test_a_curated_alert_ignores_the_minimum_severity_but_not_the_categories(
    platform: Platform,
) -> None:
    factory = platform.factory
    subscribe(factory, [HOOK], min_severity=5)
    subscribe(factory, [HOOK | {"url": "https://other.example.org/"}], categories=["police"])
    platform.relay_once()
    incident_id = add_incident(factory, category="fire.vehicle", alertable=False)
    platform.relay_once()
    assert deliveries(factory) == []

    curate(factory, incident_id)
    platform.alerts.decide_now(incident_id)
    platform.relay_once()  # the bus brings the same decision round: nothing more
    sent = deliveries(factory)
    assert [(d.status, d.body["subscription"]["id"]) for d in sent] == [("queued", 1)]


def test_a_curated_alert_waits_out_the_quiet_hours(platform: Platform) -> None:
    factory = platform.factory
    subscribe(factory, [HOOK], quiet_hours=QUIET)
    platform.relay_once()
    incident_id = add_incident(factory, category="fire.vehicle", alertable=False)
    platform.relay_once()
    curate(factory, incident_id)
    matching.handle_incident_event(
        factory,
        platform.alerts.index,
        platform.alerts.lock,
        topics.INCIDENT_UPDATED,
        {"id": incident_id},
        settings=platform.settings,
        now=NIGHT,
    )
    assert [d.status for d in deliveries(factory)] == ["held"]
    with factory() as session:
        said = curated.outcome(session, incident_id, NIGHT).sentence()
    assert said.startswith("sent now 0, held 1 (1 in their area's quiet hours")
