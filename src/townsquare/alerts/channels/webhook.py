"""Webhooks: the delivery body POSTed as JSON, signed with HMAC-SHA256.

Receivers check `X-Townsquare-Signature: sha256=HEX`, the HMAC of `TIMESTAMP.BODY` under
the channel's secret, with `TIMESTAMP` from `X-Townsquare-Timestamp` (reject old ones to
stop replays) and may deduplicate by `X-Townsquare-Delivery`. Targets on loopback or
private addresses are refused unless the operator allows them (no probing the inside).

One HTTP client per sender, shared by the delivery threads: its connections are kept alive
between deliveries, and its TLS context is built once (building one per request cost more
than the request itself).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from townsquare.alerts.channels import Outgoing, Sender, SendError, Stored
from townsquare.settings import Settings

RETRYABLE_4XX = {408, 425, 429}
MAX_CONNECTIONS = 64
KEEPALIVE_CONNECTIONS = 16


class WebhookTarget(BaseModel):
    """Alerts POSTed as signed JSON to a URL."""

    url: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$")


class WebhookChannel:
    """A URL of the subscriber's, sent signed JSON; its key is shown to the owner once."""

    kind: ClassVar[str] = "webhook"
    label: ClassVar[str] = "a webhook URL"
    position: ClassVar[int] = 30
    form_field: ClassVar[str | None] = "url"
    Target: ClassVar[type[WebhookTarget]] = WebhookTarget
    sender_name: ClassVar[str] = "webhook"
    default_backend: ClassVar[str] = "webhook"
    duplicate_error: ClassVar[str | None] = "the same webhook URL is given twice"

    def store(self, target: WebhookTarget, now: datetime) -> Stored:
        """The URL and a new signing key; confirmed: the URL's owner made it."""
        return Stored({"url": target.url}, secret=secrets.token_urlsafe(32))

    def sender(self, settings: Settings) -> Sender:
        """One pooled HTTP client for every delivery thread."""
        return WebhookSender(settings)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _public_host(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise SendError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise SendError(f"{host} is not a public address", permanent=True)


class WebhookSender:
    """POSTs signed JSON; 2xx is delivered, 410 means gone, other 4xx are permanent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        """The shared client, made on first use (thread-safe; it pools connections)."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.settings.webhook_timeout_s,
                    follow_redirects=False,
                    limits=httpx.Limits(
                        max_connections=MAX_CONNECTIONS,
                        max_keepalive_connections=KEEPALIVE_CONNECTIONS,
                    ),
                )
            return self._client

    def close(self) -> None:
        """Close the pooled connections (a later send opens new ones)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def send(self, message: Outgoing) -> None:
        """One attempt; the delivery worker retries with backoff."""
        url = str(message.target["url"])
        if not self.settings.webhook_allow_private:
            _public_host(url)
        body = json.dumps(message.body, separators=(",", ":"), ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Townsquare-Webhook/1",
            "X-Townsquare-Delivery": str(message.delivery_id),
            "X-Townsquare-Timestamp": stamp,
            "X-Townsquare-Signature": signature(message.secret or "", stamp, body),
        }
        try:
            response = self.client().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        code = response.status_code
        if 200 <= code < 300:
            return
        if code == 410:
            raise SendError("HTTP 410: the receiver is gone", gone=True)
        permanent = 400 <= code < 500 and code not in RETRYABLE_4XX
        raise SendError(f"HTTP {code}", permanent=permanent)
