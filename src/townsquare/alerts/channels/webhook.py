"""Webhooks: the delivery body POSTed as JSON, signed with HMAC-SHA256.

Receivers check `X-Townsquare-Signature: sha256=HEX`, the HMAC of `TIMESTAMP.BODY` under
the channel's secret, with `TIMESTAMP` from `X-Townsquare-Timestamp` (reject old ones to
stop replays) and may deduplicate by `X-Townsquare-Delivery`. Targets on loopback or
private addresses are refused unless the operator allows them (no probing the inside).

The address is checked where the connection is made, and the connection goes to the very
address checked (`PinnedBackend`): resolving once to check and again to connect let a name
that answers a public address first and a private one next (DNS rebinding) reach inside.
The URL's host still names the request (Host header, TLS SNI and certificate check).

One HTTP client per sender, shared by the delivery threads: its connections are kept alive
between deliveries, and its TLS context is built once (building one per request cost more
than the request itself).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpcore
import httpx
from pydantic import BaseModel, Field, field_validator

from townsquare.alerts.channels import Outgoing, Sender, SendError, Stored
from townsquare.i18n import gettext as _
from townsquare.settings import Settings

RETRYABLE_4XX = {408, 425, 429}
MAX_CONNECTIONS = 64
KEEPALIVE_CONNECTIONS = 16


URL = re.compile(r"^https?://[^\s]+$")


class WebhookTarget(BaseModel):
    """Alerts POSTed as signed JSON to a URL."""

    url: str = Field(max_length=2000, json_schema_extra={"pattern": URL.pattern})

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("type the webhook URL the alerts should be sent to")
        if not URL.match(value.strip()):
            raise ValueError("a webhook URL starts with https:// (or http://) and has no spaces")
        return value.strip()


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

    def check(self, target: WebhookTarget, settings: Settings) -> str | None:
        """Why deliveries to this URL would be refused, in words; None: they would not."""
        return refusal(target.url, settings.webhook_allow_private)

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


RESOLVE = socket.getaddrinfo
"""The resolver (one call per new connection)."""


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """May a webhook reach this address when private ones are not allowed?"""
    return address.is_global


def pinned_address(host: str, port: int, allow_private: bool) -> str:
    """Resolve `host` once; the address to connect to, if every answer may be reached."""
    try:
        infos = RESOLVE(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise SendError(f"cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    if not addresses:
        raise SendError(f"cannot resolve {host}: no address")
    if not allow_private and not all(public(address) for address in addresses):
        raise SendError(f"{host} is not a public address", permanent=True)
    return str(addresses[0])


def refusal(url: str, allow_private: bool) -> str | None:
    """What the sender would say of `url` before sending anything, in plain words.

    The very rules of `pinned_address`, applied when the webhook is saved, so an address no
    delivery could reach is refused then rather than dead-lettered at the first alert.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return _("this URL names no server")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return _("this URL's port is not a number from 1 to 65535")
    try:
        pinned_address(host, port, allow_private)
    except SendError as exc:
        if exc.permanent:
            return _(
                "{host} is a private, loopback or otherwise non-public address; this server "
                "sends webhooks only to public addresses on the internet"
            ).format(host=host)
        return _("the server cannot find {host} (its name does not resolve); check the URL").format(
            host=host
        )
    return None


class PinnedBackend(httpcore.SyncBackend):
    """Connects to the address `pinned_address` checked, never resolving again."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """A connection to the checked address; TLS and Host still name `host`."""
        address = pinned_address(host, port, self.allow_private)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


def pinned_transport(limits: httpx.Limits, allow_private: bool) -> httpx.HTTPTransport:
    """An httpx transport whose connections go to checked addresses (no proxy: the
    address a proxy would connect to could not be checked)."""
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.ConnectionPool(  # httpx takes no backend
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=PinnedBackend(allow_private),
    )
    return transport


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
                limits = httpx.Limits(
                    max_connections=MAX_CONNECTIONS,
                    max_keepalive_connections=KEEPALIVE_CONNECTIONS,
                )
                self._client = httpx.Client(
                    timeout=self.settings.webhook_timeout_s,
                    follow_redirects=False,
                    transport=pinned_transport(limits, self.settings.webhook_allow_private),
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
