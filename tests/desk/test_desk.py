"""The curation desk: moderators only, the queue, the actions, each one audited and announced."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, deliveries, subscribe, wait_until_settled
from tests.support.desk import DESK, add, desk_actions
from tests.support.posts import HOME as POST_HOME
from tests.support.posts import submit
from tests.support.residents import Mailbox, Person, resident
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare import audit
from townsquare.audit import AuditEntry
from townsquare.db import transaction
from townsquare.incidents.models import Incident
from townsquare.platform import Platform
from townsquare.posts.models import Post


def test_only_moderators(
    desk_client: TestClient, mailbox: tuple[Mailbox, int], factory: sessionmaker[Session]
) -> None:
    incident_id = add(factory)
    assert desk_client.get(f"{DESK}/queue").status_code == 401
    assert desk_client.post(f"{DESK}/incidents/{incident_id}/withhold").status_code == 401
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    assert ada.client.get(f"{DESK}/queue").status_code == 403
    act = ada.post(f"{DESK}/incidents/{incident_id}/withhold", json={"reason": "test it"})
    assert act.status_code == 403
    assert desk_actions(factory) == []


def test_queue_shows_the_gate_provenance_nearby_items_and_waiting(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    first = add(factory, minutes_ago=10)
    second = add(factory, minutes_ago=5, lat=HOME[0] - 0.001, category="crime.burglary")
    far = add(factory, minutes_ago=5, lat=HOME[0] + 0.01)
    queue = curator.client.get(f"{DESK}/queue").json()
    ids = [i["id"] for i in queue]
    assert ids[:3] == [far, second, first]  # newest first
    item = queue[1]
    assert item["provenance"] == "dispatch-confirmed"
    assert item["gate"] == {
        "visibility": "public",
        "visibility_reasons": [],
        "alertable": False,
        "alert_reasons": ["not alerted: test"],
    }
    [near] = item["corroborating"]
    assert near["id"] == first
    assert near["distance_m"] <= 300  # public points: the same res-9 cell here
    assert 4 <= near["minutes_apart"] <= 6
    assert item["waited_s"] >= 0
    assert item["decided"] is None
    done = curator.post(f"{DESK}/incidents/{second}/publish", json={"reason": "looked at it"})
    assert done.status_code == 200, done.text
    assert done.json()["decided"]["action"] == "publish"
    # A decided item waits no longer and goes behind the waiting ones.
    assert [i["id"] for i in curator.client.get(f"{DESK}/queue").json()] == [far, first, second]


def test_alert_rules(curator: Person, factory: sessionmaker[Session]) -> None:
    withheld = add(factory, visibility="withheld")
    old = add(factory, minutes_ago=120)
    timely = add(factory)
    refused = curator.post(f"{DESK}/incidents/{withheld}/alert", json={"reason": "big fire"})
    assert refused.status_code == 409
    assert "withheld incident is never alerted" in refused.text
    refused = curator.post(f"{DESK}/incidents/{old}/alert", json={"reason": "big fire"})
    assert refused.status_code == 409
    assert "last 60 minutes" in refused.text
    unexplained = curator.post(f"{DESK}/incidents/{timely}/alert", json={})
    assert unexplained.status_code == 422
    blank = curator.post(f"{DESK}/incidents/{timely}/alert", json={"reason": "    "})
    assert blank.status_code == 422
    assert desk_actions(factory) == []


def test_curator_alert_then_correct_then_retract_reach_the_subscriber(
    curator: Person, desk_platform: Platform, receiver: Receiver, factory: sessionmaker[Session]
) -> None:
    subscribe(factory, [{"kind": "webhook", "url": receiver.url}], urgent_severity=1)
    wait_for(lambda: desk_platform.alerts.index.match(*HOME), what="the watch area in the index")
    incident_id = add(factory)
    base = f"{DESK}/incidents/{incident_id}"
    alerted = curator.post(f"{base}/alert", json={"reason": "smoke over the school"})
    assert alerted.status_code == 200, alerted.text
    assert alerted.json()["gate"]["alert_reasons"] == ["alerted by curation: smoke over the school"]
    wait_for(lambda: len(receiver.received) == 1, what="the alert webhook")
    assert receiver.received[0].json()["type"] == "alert"
    corrected = curator.post(
        f"{base}/correct", json={"reason": "units report", "title": "Fire in a garage"}
    )
    assert corrected.status_code == 200, corrected.text
    wait_for(lambda: len(receiver.received) == 2, what="the update webhook")
    update = receiver.received[1].json()
    assert update["type"] == "update"
    assert update["incident"]["properties"]["title"] == "Fire in a garage"
    assert curator.post(f"{base}/retract", json={"reason": "false alarm"}).status_code == 200
    wait_for(lambda: len(receiver.received) == 3, what="the cancel webhook")
    assert receiver.received[2].json()["type"] == "cancel"
    cap = curator.client.get(f"/feeds/cap/{incident_id}.xml")
    assert "<msgType>Cancel</msgType>" in cap.text
    wait_until_settled(factory)  # every delivery made is sent: no request can follow
    assert len(receiver.received) == 3  # exactly once each
    log = [(d.kind, d.status) for d in deliveries(factory, incident_id=incident_id)]
    assert log == [("alert", "sent"), ("update", "sent"), ("cancel", "sent")]
    assert desk_actions(factory) == ["desk.alert", "desk.correct", "desk.retract"]


def test_rewrite_scrubs_phone_and_name(curator: Person, factory: sessionmaker[Session]) -> None:
    incident_id = add(factory)
    text = "RP John Smith at 206-555-0123 reports smoke from a garage"
    done = curator.post(
        f"{DESK}/incidents/{incident_id}/rewrite",
        json={"reason": "plain language", "title": "Smoke from a garage", "summary": text},
    )
    assert done.status_code == 200, done.text
    with factory() as session:
        stored = session.get_one(Incident, incident_id)
        assert stored.title == "Smoke from a garage"
        assert "John" not in stored.summary
        assert "Smith" not in stored.summary
        assert "555" not in stored.summary
        assert stored.summary == "RP [name] at [phone] reports smoke from a garage"
    public = curator.client.get(f"/api/v1/incidents/{incident_id}").json()
    assert "Smith" not in str(public)
    assert "555-0123" not in str(public)


def test_merge_takes_the_duplicate_out_and_links_it(
    curator: Person, desk_client: TestClient, factory: sessionmaker[Session]
) -> None:
    primary = add(factory)
    duplicate = add(factory, minutes_ago=4, lat=HOME[0] - 0.0005)
    merged = curator.post(
        f"{DESK}/incidents/{duplicate}/merge", json={"reason": "same call", "into": primary}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["gate"]["visibility_reasons"] == [f"merged into {primary}"]
    assert desk_client.get(f"/api/v1/incidents/{duplicate}").status_code == 404
    assert desk_client.get(f"/api/v1/incidents/{primary}").status_code == 200
    shown = curator.client.get(f"{DESK}/incidents/{primary}").json()
    assert shown["linked"] == [duplicate]
    self_merge = {"reason": "same call", "into": primary}
    assert curator.post(f"{DESK}/incidents/{primary}/merge", json=self_merge).status_code == 409


def test_every_action_is_audited(curator: Person, factory: sessionmaker[Session]) -> None:
    incident_id = add(factory)
    other = add(factory, minutes_ago=3)
    base = f"{DESK}/incidents/{incident_id}"
    steps = [
        ("rewrite", {"title": "Garage fire"}),
        ("categorize", {"category": "fire.outside", "severity": 3}),
        ("withhold", {}),
        ("publish", {}),
        ("alert", {}),
        ("correct", {"severity": 4}),
        ("retract", {}),
    ]
    for action, extra in steps:
        response = curator.post(f"{base}/{action}", json={"reason": f"why {action}", **extra})
        assert response.status_code == 200, (action, response.text)
    link = {"reason": "why link", "into": incident_id}
    assert curator.post(f"{DESK}/incidents/{other}/link", json=link).status_code == 404  # retracted
    third = add(factory, minutes_ago=2)
    link = {"reason": "why link", "into": third}
    assert curator.post(f"{DESK}/incidents/{other}/link", json=link).status_code == 200
    assert curator.post(f"{base}/shout", json={"reason": "nope"}).status_code == 404
    expected = [f"desk.{a}" for a, _ in steps] + ["desk.link"]
    assert desk_actions(factory) == expected
    with factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith("desk.")).order_by(AuditEntry.id)
        ).all()
        assert {e.actor_id for e in entries} == {curator.account_id}
        assert [e.detail["reason"] for e in entries] == [f"why {a[5:]}" for a in expected]
        assert audit.verify(session).ok


def test_merge_a_resident_post_into_a_dispatch_incident(
    curator: Person,
    desk_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
) -> None:
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    post_id = submit(ada).json()["id"]
    approved = curator.post(f"/api/v1/moderation/posts/{post_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    with factory() as session:
        post = session.get_one(Post, post_id)
        resident_incident = post.incident_id
        assert resident_incident is not None
        assert post.corroborated_by is None
    dispatch = add(factory, lat=POST_HOME[0], lon=POST_HOME[1], category="fire.other")
    queued = {i["id"]: i for i in curator.client.get(f"{DESK}/queue").json()}
    assert queued[resident_incident]["provenance"] == "resident, unverified"
    merge = {"reason": "the same scene", "into": dispatch}
    done = curator.post(f"{DESK}/incidents/{resident_incident}/merge", json=merge)
    assert done.status_code == 200, done.text
    assert desk_client.get(f"/api/v1/incidents/{resident_incident}").status_code == 404
    assert curator.client.get(f"{DESK}/incidents/{dispatch}").json()["linked"] == [
        resident_incident
    ]
    with factory() as session:
        assert session.get_one(Post, post_id).corroborated_by == dispatch
    public = desk_client.get(f"/api/v1/posts/{post_id}/public").json()
    assert public["corroborated_by"] == dispatch
    assert resident_incident not in [i["id"] for i in curator.client.get(f"{DESK}/queue").json()]


def test_categorize_runs_the_gate_again_but_a_curator_decision_stands(
    curator: Person, factory: sessionmaker[Session]
) -> None:
    fresh = add(factory)
    base = f"{DESK}/incidents/{fresh}"
    body = {"reason": "it is a domestic call", "category": "sensitive.domestic"}
    regated = curator.post(f"{base}/categorize", json=body).json()["gate"]
    assert regated["visibility"] == "withheld"
    assert "sensitive" in regated["visibility_reasons"][0]
    body = {"reason": "it is a garage fire", "category": "fire.structure", "severity": 4}
    regated = curator.post(f"{base}/categorize", json=body).json()["gate"]
    assert regated["visibility"] == "public"
    assert regated["alertable"] is True  # timely, community, severity 4: the gate alerts it
    withheld = add(factory)
    withhold = {"reason": "a victim's home"}
    assert curator.post(f"{DESK}/incidents/{withheld}/withhold", json=withhold).status_code == 200
    body = {"reason": "more exact", "category": "fire.outside"}
    gate = curator.post(f"{DESK}/incidents/{withheld}/categorize", json=body).json()["gate"]
    assert gate["visibility"] == "withheld"
    assert gate["visibility_reasons"] == ["withheld by curation: a victim's home"]
    alerted = add(factory, category="fire.alarm")
    alert = {"reason": "school alarm"}
    assert curator.post(f"{DESK}/incidents/{alerted}/alert", json=alert).status_code == 200
    body = {"reason": "lower it", "severity": 1}
    gate = curator.post(f"{DESK}/incidents/{alerted}/categorize", json=body).json()["gate"]
    assert gate["alertable"] is True
    assert gate["alert_reasons"] == ["alerted by curation: school alarm"]


def test_a_post_corroborated_on_its_exact_point_is_listed_however_far_its_public_point(
    curator: Person,
    desk_client: TestClient,
    mailbox: tuple[Mailbox, int],
    factory: sessionmaker[Session],
) -> None:
    dispatch = add(factory, lat=POST_HOME[0], lon=POST_HOME[1], category="crime.vandalism")
    ada = resident(desk_client, mailbox[0], "ada@example.org")
    post_id = submit(ada).json()["id"]
    assert curator.post(f"/api/v1/moderation/posts/{post_id}/approve", json={}).is_success
    with transaction(factory) as session:
        post = session.get_one(Post, post_id)
        assert post.corroborated_by == dispatch
        # The post's public point as the per-home displacement can put it: 700 m north.
        incident = session.get_one(Incident, post.incident_id)
        incident.lat = POST_HOME[0] + 0.0063
    resident_incident = post.incident_id
    seen = curator.client.get(f"{DESK}/incidents/{resident_incident}").json()
    [link] = seen["corroborating"]
    assert (link["id"], link["exact_match"]) == (dispatch, True)
    assert link["distance_m"] > 400  # beyond the 300 m search in public; matched in private
    other_way = curator.client.get(f"{DESK}/incidents/{dispatch}").json()["corroborating"]
    assert [(n["id"], n["exact_match"]) for n in other_way] == [(resident_incident, True)]
