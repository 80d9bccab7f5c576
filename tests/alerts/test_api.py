"""The subscription API: the manage token is the only key; bad areas are refused clearly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import HOME, add_incident, alert_settings
from tests.support.waiting import wait_for
from tests.support.webhooks import Receiver
from townsquare.alerts.models import Subscription
from townsquare.app import create_app
from townsquare.platform import Platform


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    """The running app (relay and delivery loops included) on the test store."""
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def area(radius_m: float = 1000) -> dict[str, object]:
    return {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": radius_m}


def test_subscribe_then_read_log_and_unsubscribe_with_the_token_only(
    client: TestClient, receiver: Receiver, platform: Platform
) -> None:
    response = client.post(
        "/api/v1/subscriptions",
        json={
            "name": "Home",
            "area": area(),
            "categories": ["fire"],
            "channels": [{"kind": "webhook", "url": receiver.url}],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    sub_id, token = body["subscription"]["id"], body["manage_token"]
    assert len(token) >= 40
    assert list(body["webhook_secrets"]) == [str(body["subscription"]["channels"][0]["id"])]
    owner = {"Authorization": f"Bearer {token}"}

    assert client.get(f"/api/v1/subscriptions/{sub_id}", headers=owner).json()["name"] == "Home"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert client.get(f"/api/v1/subscriptions/{sub_id}", headers=headers).status_code == 404

    incident_id = add_incident(platform.factory)
    log = wait_for(
        lambda: [
            d
            for d in client.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=owner).json()
            if d["status"] == "sent"
        ],
        what="a sent delivery in the subscription's log",
    )
    assert [(d["incident_id"], d["kind"], d["channel_kind"]) for d in log] == [
        (incident_id, "alert", "webhook")
    ]
    assert len(receiver.received) == 1

    assert client.delete(f"/api/v1/subscriptions/{sub_id}", headers=owner).status_code == 204
    assert client.get(f"/api/v1/subscriptions/{sub_id}", headers=owner).status_code == 404


@pytest.mark.parametrize(
    ("payload", "parameter"),
    [
        (
            {"area": area(50), "channels": [{"kind": "email", "address": "a@example.org"}]},
            "radius_m",
        ),
        (
            {"area": area(20_000), "channels": [{"kind": "email", "address": "a@example.org"}]},
            "radius_m",
        ),
        ({"area": area(), "channels": []}, "channels"),
        ({"area": area(), "channels": [{"kind": "email", "address": "nope"}]}, "address"),
        (
            {
                "area": area(),
                "categories": ["fire.imaginary"],
                "channels": [{"kind": "email", "address": "a@example.org"}],
            },
            "categories",
        ),
        (
            {
                "area": {"type": "polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
                "channels": [{"kind": "email", "address": "a@example.org"}],
            },
            "coordinates",
        ),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(
    client: TestClient, payload: dict[str, object], parameter: str
) -> None:
    response = client.post("/api/v1/subscriptions", json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == parameter


def test_push_key_is_served_without_configuration(client: TestClient) -> None:
    answer = client.get("/api/v1/push/key")
    assert answer.status_code == 200
    assert len(answer.json()["public_key"]) == 87  # 65 bytes, base64url: a P-256 point


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a private, loopback or otherwise non-public"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private, loopback or otherwise non-public"),
        ("https://[::1]/hook", "::1 is a private, loopback or otherwise non-public"),
        ("https://nowhere.invalid/hook", "the server cannot find nowhere.invalid"),
        ("ftp://example.org/hook", "a webhook URL starts with https://"),
    ],
)
def test_a_webhook_the_server_would_refuse_is_refused_when_saved(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, url: str, said: str
) -> None:
    settings = alert_settings(tmp_path, webhook_allow_private=False)
    app = create_app(platform=Platform(settings, engine, factory))
    with TestClient(app) as strict:
        answer = strict.post(
            "/api/v1/subscriptions",
            json={"area": area(), "channels": [{"kind": "webhook", "url": url}]},
        )
        assert answer.status_code == 422
        assert answer.json()["parameter"] == "url"
        assert said in answer.json()["detail"]
        assert "pattern" not in answer.json()["detail"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_each_area_says_what_it_receives_now_and_in_the_digest(
    client: TestClient, receiver: Receiver
) -> None:
    made = client.post(
        "/api/v1/subscriptions",
        json={
            "area": area(),
            "categories": ["fire", "traffic"],
            "min_severity": 2,
            "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Paris"},
            "channels": [{"kind": "webhook", "url": receiver.url}],
        },
    ).json()
    token = made["manage_token"]
    plan = client.get(
        f"/api/v1/subscriptions/{made['subscription']['id']}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()["plan"]
    assert plan == {
        "about": "About: Fire, Traffic only.",
        "now": "Sent at once: severe to extreme (severity 4 to 5), up to 10 an hour "
        "(more go in the digest).",
        "digest": "In the digest, sent every hour: low to moderate (severity 2 to 3).",
        "never": "Not sent: minor (severity 1).",
        "quiet": "Quiet hours 22:00–07:00 (Europe/Paris): only extreme incidents go at once; "
        "the rest goes in the first digest after.",
        "curated": "An alert the curation team sends goes at once whatever its severity, if "
        "it is in a category this area asked for (in quiet hours, it waits for the digest).",
    }
