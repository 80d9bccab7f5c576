"""Matching: each alertable incident once per subscriber, updates and cancellations follow it."""

from __future__ import annotations

from datetime import timedelta

from tests.support.alerts import HOME, add_incident, change_incident, deliveries, subscribe
from tests.support.webhooks import Receiver
from townsquare.alerts import delivery
from townsquare.alerts.channels import build_senders
from townsquare.db import utcnow
from townsquare.platform import Platform


def hook(receiver: Receiver) -> list[dict[str, str]]:
    return [{"kind": "webhook", "url": receiver.url}]


def test_alert_reaches_subscribers_inside_once_even_when_the_event_repeats(
    platform: Platform, receiver: Receiver
) -> None:
    inside = subscribe(platform.factory, hook(receiver), radius_m=500)
    far = subscribe(platform.factory, hook(receiver), lat=HOME[0] + 0.05, radius_m=500)
    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    # at-least-once: the same event arrives again, on purpose
    platform.bus.publish("incident.published", {"id": incident_id, "event_id": 999})
    platform.bus.publish("incident.updated", {"id": incident_id, "event_id": 1000})

    rows = deliveries(platform.factory, incident_id=incident_id)
    assert [(r.subscription_id, r.kind, r.status) for r in rows] == [
        (inside.subscription.id, "alert", "queued")
    ]
    assert far.subscription.id not in {r.subscription_id for r in rows}


def test_update_goes_to_those_alerted_and_unit_counts_are_not_news(
    platform: Platform, receiver: Receiver
) -> None:
    sub = subscribe(platform.factory, hook(receiver))
    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    change_incident(platform.factory, incident_id, unit_count=3, summary="3 units")
    platform.relay_once()
    assert [r.kind for r in deliveries(platform.factory, incident_id=incident_id)] == ["alert"]

    change_incident(platform.factory, incident_id, title="Structure fire, working", severity=5)
    platform.relay_once()
    rows = deliveries(platform.factory, incident_id=incident_id)
    assert [r.kind for r in rows] == ["alert", "update"]
    assert rows[1].body["incident"]["properties"]["title"] == "Structure fire, working"
    assert rows[1].subscription_id == sub.subscription.id


def test_removed_incident_sends_a_cancellation_to_those_alerted(
    platform: Platform, receiver: Receiver
) -> None:
    subscribe(platform.factory, hook(receiver))
    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    change_incident(platform.factory, incident_id, visibility="removed")
    platform.relay_once()
    platform.bus.publish("incident.removed", {"id": incident_id, "event_id": 77})
    rows = deliveries(platform.factory, incident_id=incident_id)
    assert [r.kind for r in rows] == ["alert", "cancel"]
    assert "properties" not in rows[1].body["incident"]  # nothing of it is public any more


def test_categories_and_minimum_severity_choose_what_alerts(
    platform: Platform, receiver: Receiver
) -> None:
    crime = subscribe(platform.factory, hook(receiver), categories=["crime"])
    severe = subscribe(platform.factory, hook(receiver), min_severity=4)
    platform.relay_once()
    burglary = add_incident(platform.factory, category="crime.burglary")  # severity 3
    fire = add_incident(platform.factory, category="fire.structure")  # severity 4
    unalertable = add_incident(platform.factory, category="crime.robbery", alertable=False)
    platform.relay_once()
    got = {(r.subscription_id, r.incident_id) for r in deliveries(platform.factory)}
    assert got == {(crime.subscription.id, burglary), (severe.subscription.id, fire)}
    assert unalertable not in {i for _, i in got}


def test_polygon_area_matches_inside_only(platform: Platform, receiver: Receiver) -> None:
    lat, lon = HOME
    ring = [
        [lon - 0.01, lat - 0.01],
        [lon + 0.01, lat - 0.01],
        [lon + 0.01, lat + 0.01],
        [lon - 0.01, lat + 0.01],
        [lon - 0.01, lat - 0.01],
    ]
    from townsquare.alerts import service
    from townsquare.alerts.schemas import SubscriptionIn

    data = SubscriptionIn.model_validate(
        {"area": {"type": "polygon", "coordinates": [ring]}, "channels": hook(receiver)}
    )
    sub = service.create_subscription(platform.factory, data, actor="t", now=utcnow())
    platform.relay_once()
    inside = add_incident(platform.factory, lat=lat + 0.005, lon=lon)
    outside = add_incident(platform.factory, lat=lat + 0.02, lon=lon)
    platform.relay_once()
    got = [(r.subscription_id, r.incident_id) for r in deliveries(platform.factory)]
    assert got == [(sub.subscription.id, inside)]
    assert outside not in {i for _, i in got}


def test_non_urgent_incidents_wait_for_one_digest(platform: Platform, receiver: Receiver) -> None:
    sub = subscribe(platform.factory, hook(receiver))
    platform.relay_once()
    first = add_incident(platform.factory, category="traffic.collision_freeway")  # severity 3
    second = add_incident(platform.factory, category="crime.burglary")  # severity 3
    platform.relay_once()
    assert {r.status for r in deliveries(platform.factory)} == {"held"}
    settings = platform.settings
    assert delivery.send_digests(platform.factory, settings=settings, now=utcnow()) == 0
    later = utcnow() + timedelta(seconds=settings.alert_digest_interval_s + 1)
    assert delivery.send_digests(platform.factory, settings=settings, now=later) == 1
    assert delivery.send_digests(platform.factory, settings=settings, now=later) == 0
    digest = deliveries(platform.factory, kind="digest")
    assert len(digest) == 1
    assert digest[0].subscription_id == sub.subscription.id
    assert {i["incident"]["id"] for i in digest[0].body["items"]} == {first, second}

    delivery.deliver_due(platform.factory, build_senders(settings), settings=settings, now=later)
    assert [r.json()["type"] for r in receiver.received] == ["digest"]


def test_rate_limit_holds_the_flood_for_the_digest(
    engine: object, factory: object, tmp_path: object
) -> None:
    from tests.support.alerts import alert_settings

    platform = Platform(alert_settings(tmp_path, alert_rate_per_hour=2), engine, factory)  # type: ignore[arg-type]
    platform.start()
    subscribe(platform.factory, [{"kind": "webhook", "url": "http://127.0.0.1:9/hook"}])
    platform.relay_once()
    ids = [add_incident(platform.factory, lat=HOME[0] + i * 0.0005) for i in range(4)]
    platform.relay_once()
    statuses = [r.status for r in deliveries(platform.factory, kind="alert")]
    assert statuses == ["queued", "queued", "held", "held"]
    assert [r.incident_id for r in deliveries(platform.factory, kind="alert")] == ids


def test_quiet_hours_hold_all_but_the_most_severe(platform: Platform, receiver: Receiver) -> None:
    now = utcnow()
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    subscribe(platform.factory, hook(receiver), quiet_hours={"start": start, "end": end})
    platform.relay_once()
    fire = add_incident(platform.factory, category="fire.structure")  # 4: waits
    shooting = add_incident(platform.factory, category="crime.shooting")  # 5: goes now
    platform.relay_once()
    got = {r.incident_id: r.status for r in deliveries(platform.factory)}
    assert got == {fire: "held", shooting: "queued"}


def test_withdrawn_incident_still_waiting_is_never_sent(
    platform: Platform, receiver: Receiver
) -> None:
    subscribe(platform.factory, hook(receiver))
    platform.relay_once()
    incident_id = add_incident(platform.factory, category="crime.burglary")
    platform.relay_once()
    change_incident(platform.factory, incident_id, visibility="removed")
    platform.relay_once()
    assert [(r.kind, r.status) for r in deliveries(platform.factory)] == [("alert", "withdrawn")]
