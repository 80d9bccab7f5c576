"""Each channel against a real local server: webhook receiver, SMTP server, push endpoint;
and a third-party channel kind, registered in the test through the entry points' call."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.alerts import (
    HOME,
    add_incident,
    alert_settings,
    deliveries,
    run_worker,
    subscribe,
)
from tests.support.webhooks import Received, Receiver, serve_receiver
from townsquare.alerts import delivery, service
from townsquare.alerts.channels import Outgoing, Sender, SendError, Stored, build_senders
from townsquare.alerts.channels.registry import CHANNELS, register_channel
from townsquare.alerts.models import Channel as ChannelRow
from townsquare.alerts.render import headline
from townsquare.alerts.vapid import b64url, new_vapid_keys
from townsquare.app import create_app
from townsquare.db import utcnow
from townsquare.errors import ConfigError
from townsquare.platform import Platform
from townsquare.settings import Settings

# --- webhooks -------------------------------------------------------------------------------


def test_webhook_is_signed_and_carries_public_fields_only(
    platform: Platform, receiver: Receiver
) -> None:
    created = subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    run_worker(platform, platform.settings)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    secret = next(iter(created.webhook_secrets.values()))
    stamp = got.headers["X-Townsquare-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["X-Townsquare-Signature"] == "sha256=" + expected.hexdigest()
    body = got.json()
    assert body["type"] == "alert"
    assert body["incident"]["id"] == incident_id
    assert set(body["incident"]["geometry"]) == {"type", "coordinates"}
    assert body["url"] == f"http://townsquare.test/incidents/{incident_id}"
    assert [d.status for d in deliveries(platform.factory)] == ["sent"]


def test_webhook_failures_back_off_then_succeed(platform: Platform, receiver: Receiver) -> None:
    receiver.statuses[:] = [500, 503]
    subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    add_incident(platform.factory)
    platform.relay_once()
    settings = platform.settings
    senders = build_senders(settings)
    now = utcnow()
    delivery.deliver_due(platform.factory, senders, settings=settings, now=now)
    row = deliveries(platform.factory)[0]
    assert (row.status, row.attempts, row.last_error) == ("retrying", 1, "HTTP 500")
    first_wait = row.next_attempt_at - now  # type: ignore[operator]
    # not due yet: nothing is sent early
    assert delivery.deliver_due(platform.factory, senders, settings=settings, now=now) == 0
    now = row.next_attempt_at
    delivery.deliver_due(platform.factory, senders, settings=settings, now=now)  # type: ignore[arg-type]
    row = deliveries(platform.factory)[0]
    assert (row.status, row.attempts) == ("retrying", 2)
    assert row.next_attempt_at - now > first_wait  # type: ignore[operator]  # exponential
    delivery.deliver_due(platform.factory, senders, settings=settings, now=row.next_attempt_at)  # type: ignore[arg-type]
    assert [(d.status, d.attempts) for d in deliveries(platform.factory)] == [("sent", 3)]
    assert len(receiver.received) == 3
    assert len({r.headers["X-Townsquare-Delivery"] for r in receiver.received}) == 1


def test_dead_letters_are_listed_for_the_owner_and_can_be_requeued(
    platform: Platform, receiver: Receiver
) -> None:
    receiver.statuses[:] = [500] * 3
    created = subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    add_incident(platform.factory)
    platform.relay_once()
    run_worker(platform, platform.settings, rounds=4, step_s=3600)
    sub_id, token = created.subscription.id, created.manage_token
    with platform.factory() as session:
        dead = service.list_deliveries(session, sub_id, token, status="dead")
    assert [(d.kind, d.attempts, d.last_error) for d in dead] == [("alert", 3, "HTTP 500")]

    assert service.retry_dead_letters(platform.factory, sub_id, token, actor="t", now=utcnow()) == 1
    run_worker(platform, platform.settings)
    assert [d.status for d in deliveries(platform.factory)] == ["sent"]


def test_a_rejecting_receiver_is_dead_lettered_at_once(
    platform: Platform, receiver: Receiver
) -> None:
    receiver.statuses[:] = [400]
    subscribe(platform.factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    add_incident(platform.factory)
    platform.relay_once()
    run_worker(platform, platform.settings)
    assert [(d.status, d.attempts) for d in deliveries(platform.factory)] == [("dead", 1)]


def test_webhooks_to_private_addresses_are_refused_by_default(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, receiver: Receiver
) -> None:
    platform = Platform(alert_settings(tmp_path, webhook_allow_private=False), engine, factory)
    platform.start()
    subscribe(factory, [{"kind": "webhook", "url": receiver.url}])
    platform.relay_once()
    add_incident(factory)
    platform.relay_once()
    run_worker(platform, platform.settings)
    assert receiver.received == []
    row = deliveries(factory)[0]
    assert row.status == "dead"
    assert "not a public address" in (row.last_error or "")


# --- e-mail: tests/alerts/test_optin.py (double opt-in, one-click unsubscribe) --------------


# --- Web Push -------------------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """The receiving side of Web Push: the user agent's keys and a push service endpoint."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.decrypted: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def handle(self, vapid_public: str, got: Received, origin: str) -> tuple[int, bytes]:
        """Check VAPID (RFC 8292) and decrypt (RFC 8291) like a push service and browser."""
        scheme, _, params = got.headers.get("Authorization", "").partition(" ")
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        if scheme != "vapid" or fields.get("k") != vapid_public:
            self.problems.append(f"bad Authorization: {got.headers.get('Authorization')}")
            return 401, b""
        head, claims, signature = fields["t"].split(".")
        raw = _b64decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64decode(vapid_public))
        key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        claim = json.loads(_b64decode(claims))
        if claim["aud"] != origin or not claim["sub"].startswith("mailto:"):
            self.problems.append(f"bad claims {claim}")
            return 403, b""
        if got.headers.get("Content-Encoding") != "aes128gcm":
            self.problems.append("not aes128gcm")
            return 415, b""
        plain = http_ece.decrypt(
            got.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        self.decrypted.append(json.loads(plain))
        return 201, b""


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    keys = new_vapid_keys()
    browser = Browser()
    holder: dict[str, str] = {}

    def handle(receiver: Receiver, got: Received) -> tuple[int, bytes]:
        return browser.handle(keys.public_key, got, holder["origin"])

    server = serve_receiver(handle)
    endpoint = next(server)
    holder["origin"] = endpoint.url.rsplit("/", 1)[0]
    try:
        settings = alert_settings(
            tmp_path, vapid_private_key=keys.private_key, vapid_public_key=keys.public_key
        )
        platform = Platform(settings, engine, factory)
        platform.start()
        channel = {
            "kind": "webpush",
            "endpoint": endpoint.url,
            "keys": {"p256dh": b64url(browser.public), "auth": b64url(browser.auth)},
        }
        subscribe(factory, [channel])
        platform.relay_once()
        incident_id = add_incident(factory)
        platform.relay_once()
        run_worker(platform, settings)
    finally:
        server.close()

    assert browser.problems == []
    assert len(browser.decrypted) == 1
    shown = browser.decrypted[0]
    assert shown["type"] == "alert"
    assert shown["incident_id"] == incident_id
    assert shown["title"].startswith("Alert: Structure fire")
    assert [d.status for d in deliveries(factory)] == ["sent"]


def test_unsubscribed_browser_turns_the_channel_off(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    keys = new_vapid_keys()
    server = serve_receiver(lambda receiver, got: (410, b""))
    endpoint = next(server)
    try:
        settings = alert_settings(tmp_path, vapid_private_key=keys.private_key)
        platform = Platform(settings, engine, factory)
        platform.start()
        browser = Browser()
        channel = {
            "kind": "webpush",
            "endpoint": endpoint.url,
            "keys": {"p256dh": b64url(browser.public), "auth": b64url(browser.auth)},
        }
        created = subscribe(factory, [channel])
        platform.relay_once()
        add_incident(factory)
        platform.relay_once()
        run_worker(platform, settings)
    finally:
        server.close()
    assert [d.status for d in deliveries(factory)] == ["dead"]
    with factory() as session:
        out = service.get_subscription(session, created.subscription.id, created.manage_token)
    assert [c.active for c in out.channels] == [False]


# --- a third-party channel kind, registered the way the entry points register -----------------


class PagerSettings(BaseSettings):
    """The pager channel's own settings, read from TOWNSQUARE_PAGER_* when senders are built."""

    model_config = SettingsConfigDict(env_prefix="TOWNSQUARE_PAGER_")
    gateway_url: str


class PagerTarget(BaseModel):
    """A phone number in E.164."""

    number: str = Field(pattern=r"^\+[1-9]\d{6,14}$")


class PagerSender:
    """POSTs the headline to the operator's text-message gateway."""

    def __init__(self, own: PagerSettings) -> None:
        self.own = own

    def send(self, message: Outgoing) -> None:
        """One POST; anything but 2xx is retried."""
        text = headline(message.body)
        body = {"to": message.target["number"], "text": text}
        answer = httpx.post(self.own.gateway_url, json=body)
        if answer.status_code >= 300:
            raise SendError(f"gateway said {answer.status_code}")


class PagerChannel:
    """Text messages through a gateway: what a package outside Townsquare would ship."""

    kind: ClassVar[str] = "pager"
    label: ClassVar[str] = "a phone (text message)"
    position: ClassVar[int] = 40
    form_field: ClassVar[str | None] = "number"
    Target: ClassVar[type[PagerTarget]] = PagerTarget
    sender_name: ClassVar[str] = "gateway"
    default_backend: ClassVar[str] = "gateway"
    duplicate_error: ClassVar[str | None] = "the same number is given twice"

    def store(self, target: PagerTarget, now: datetime) -> Stored:
        """The number; confirmed at once (this test's gateway does its own opt-in)."""
        return Stored({"number": target.number})

    def sender(self, settings: Settings) -> Sender:
        """A gateway client with the channel's own settings."""
        return PagerSender(PagerSettings())  # type: ignore[call-arg]  # from the environment


@pytest.fixture
def pager(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[Receiver]:
    """The pager channel registered (and forgotten after the test); its gateway: `receiver`."""
    monkeypatch.setenv("TOWNSQUARE_PAGER_GATEWAY_URL", receiver.url)
    register_channel(PagerChannel)
    yield receiver
    CHANNELS.unregister("pager")


def test_a_third_party_channel_is_offered_accepted_stored_and_delivered(
    platform: Platform, pager: Receiver
) -> None:
    client = TestClient(create_app(platform=platform))
    page = client.get("/alerts").text
    offered = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', page)
    assert offered[-4:] == [
        ("webpush", "this browser (push)"),
        ("email", "e-mail"),
        ("webhook", "a webhook URL"),
        ("pager", "a phone (text message)"),
    ]
    assert 'data-field="number"' in page

    area = {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000}
    refused = client.post(
        "/api/v1/subscriptions",
        json={"area": area, "channels": [{"kind": "pager", "number": "555-0100"}]},
    )
    assert (refused.status_code, refused.json()["parameter"]) == (422, "number")
    created = client.post(
        "/api/v1/subscriptions",
        json={"area": area, "channels": [{"kind": "pager", "number": "+12065550100"}]},
    )
    assert created.status_code == 201, created.text
    channel = created.json()["subscription"]["channels"][0]
    assert (channel["kind"], channel["target"], channel["confirmed"]) == (
        "pager",
        {"number": "+12065550100"},
        True,
    )
    with platform.factory() as session:
        stored = session.scalars(select(ChannelRow)).one()
        assert (stored.kind, stored.target) == ("pager", {"number": "+12065550100"})

    platform.relay_once()
    incident_id = add_incident(platform.factory)
    platform.relay_once()
    run_worker(platform, platform.settings)
    assert [(d.status, d.incident_id) for d in deliveries(platform.factory)] == [
        ("sent", incident_id)
    ]
    got = pager.received[0].json()
    assert got["to"] == "+12065550100"
    assert got["text"]


def test_a_channel_kind_nobody_registered_is_refused_naming_the_kind(
    platform: Platform, pager: Receiver
) -> None:
    client = TestClient(create_app(platform=platform))
    area = {"type": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 1000}
    answer = client.post(
        "/api/v1/subscriptions", json={"area": area, "channels": [{"kind": "carrier-pigeon"}]}
    )
    assert (answer.status_code, answer.json()["parameter"]) == (422, "kind")
    assert "known kinds: email, pager, webhook, webpush" in answer.json()["detail"]
    twice = [{"kind": "pager", "number": "+12065550100"}] * 2
    answer = client.post("/api/v1/subscriptions", json={"area": area, "channels": twice})
    assert answer.status_code == 422
    assert "the same number is given twice" in answer.json()["detail"]
    spec = client.get("/api/v1/openapi.json").text
    assert '"const":"pager"' in spec.replace(" ", "")


def test_senders_follow_the_settings_and_refuse_unknown_kinds_and_backends(
    tmp_path: Path, pager: Receiver
) -> None:
    chosen = build_senders(alert_settings(tmp_path, alert_senders={"pager": "console"}))
    assert set(chosen) == {"email", "pager", "webhook", "webpush"}
    assert type(chosen["pager"]).__name__ == "ConsoleSender"
    assert type(build_senders(alert_settings(tmp_path))["pager"]) is PagerSender
    with pytest.raises(ConfigError, match="unknown channel kind 'sms'; known kinds: email, pager"):
        build_senders(alert_settings(tmp_path, alert_senders={"sms": "console"}))
    with pytest.raises(ConfigError, match=r"pager cannot be sent by 'smtp' \(gateway, console"):
        build_senders(alert_settings(tmp_path, alert_senders={"pager": "smtp"}))
