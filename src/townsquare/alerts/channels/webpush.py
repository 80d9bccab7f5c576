"""Web Push (RFC 8030) with encrypted payloads (RFC 8291) and VAPID (RFC 8292), by pywebpush."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from pywebpush import WebPushException, webpush

from townsquare.alerts.channels import Outgoing, Sender, SendError, Stored
from townsquare.alerts.render import headline
from townsquare.alerts.vapid import VapidKeys, configured_keys
from townsquare.settings import Settings

TTL_S = 24 * 3600
GONE = {404, 410}


class PushKeys(BaseModel):
    """The browser's keys from PushSubscription.toJSON()."""

    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class WebPushTarget(BaseModel):
    """Alerts as Web Push to a browser; `endpoint` and `keys` as the browser gives them."""

    endpoint: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$")
    keys: PushKeys


class WebPushChannel:
    """This browser: the page's script subscribes it to the push service for the target."""

    kind: ClassVar[str] = "webpush"
    label: ClassVar[str] = "this browser (push)"
    position: ClassVar[int] = 10
    form_field: ClassVar[str | None] = None
    Target: ClassVar[type[WebPushTarget]] = WebPushTarget
    sender_name: ClassVar[str] = "webpush"
    default_backend: ClassVar[str] = "webpush"
    duplicate_error: ClassVar[str | None] = None

    def store(self, target: WebPushTarget, now: datetime) -> Stored:
        """The endpoint and keys; confirmed: the browser made them."""
        return Stored({"endpoint": target.endpoint, "keys": target.keys.model_dump()})

    def sender(self, settings: Settings) -> Sender:
        """Encrypted pushes signed with the VAPID key."""
        return WebPushSender(settings)


def push_payload(body: dict[str, Any]) -> str:
    """What the service worker shows: a title, a short text, a link (well under 4 KB)."""
    incident = body.get("incident", {})
    props = incident.get("properties", {})
    return json.dumps(
        {
            "type": body.get("type"),
            "title": headline(body),
            "body": props.get("category_label", body.get("reason", "")),
            "url": body.get("url", ""),
            "incident_id": incident.get("id"),
        },
        ensure_ascii=False,
    )


class WebPushSender:
    """Encrypts for the browser's keys and posts to its push service with a VAPID JWT."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys: VapidKeys | None = configured_keys(settings)

    def use_keys(self, keys: VapidKeys) -> None:
        """Sign with the server's key pair (the alert engine hands it over when it starts)."""
        self.keys = keys

    def send(self, message: Outgoing) -> None:
        """One push; 404/410 mean the browser unsubscribed."""
        key = self.keys
        if key is None and self.settings.vapid_private_key is not None:  # private half only
            key = VapidKeys(self.settings.vapid_private_key.get_secret_value(), "")
        if key is None:
            raise SendError("no VAPID key yet (the alert engine makes it)", permanent=True)
        try:
            webpush(
                subscription_info={
                    "endpoint": message.target["endpoint"],
                    "keys": message.target["keys"],
                },
                data=push_payload(message.body),
                vapid_private_key=key.private_key,
                vapid_claims={"sub": self.settings.vapid_subject},
                ttl=TTL_S,
                timeout=10,
            )
        except WebPushException as exc:
            code = exc.response.status_code if exc.response is not None else None
            if code in GONE:
                raise SendError(f"push service says {code}: unsubscribed", gone=True) from exc
            permanent = code is not None and 400 <= code < 500 and code != 429
            raise SendError(f"push failed: {code or exc}", permanent=permanent) from exc
        except (OSError, ValueError) as exc:
            raise SendError(f"push failed: {type(exc).__name__}: {exc}") from exc
