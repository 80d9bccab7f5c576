"""Each channel against a real local server: webhook receiver, SMTP server, push endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.alerts.conftest import (
    Received,
    Receiver,
    add_incident,
    alert_settings,
    deliveries,
    serve_receiver,
    subscribe,
)
from townsquare.alerts import delivery, service
from townsquare.alerts.channels import build_senders
from townsquare.alerts.vapid import b64url, new_vapid_keys
from townsquare.db import utcnow
from townsquare.platform import Platform
from townsquare.settings import Settings


def run_worker(platform: Platform, settings: Settings, rounds: int = 1, step_s: float = 0) -> None:
    """Run the delivery worker `rounds` times, moving its clock `step_s` on each time."""
    now = utcnow()
    senders = build_senders(settings)
    for _ in range(rounds):
        delivery.deliver_due(platform.factory, senders, settings=settings, now=now)
        now += timedelta(seconds=step_s)


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
