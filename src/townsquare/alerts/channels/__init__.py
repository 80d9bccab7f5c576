"""Delivery channels: one small sender per backend, chosen per channel kind by the settings.

A sender gets one `Outgoing` message and either returns (delivered) or raises `SendError`
saying whether trying again can help and whether the target is gone for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from townsquare.settings import Settings


class SendError(Exception):
    """A delivery attempt failed; `permanent` means retrying cannot help."""

    def __init__(self, detail: str, *, permanent: bool = False, gone: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent or gone
        self.gone = gone


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one channel."""

    delivery_id: int
    kind: str
    target: dict[str, Any]
    secret: str | None
    body: dict[str, Any]
    channel_id: int | None = None
    """The channel, for the links only its recipient may follow (unsubscribe)."""


class Sender(Protocol):
    """Sends one message or raises SendError."""

    def send(self, message: Outgoing) -> None:
        """Deliver `message` to its target."""


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The sender of each channel kind, as the settings choose."""
    from townsquare.alerts.channels.console import ConsoleSender, NullSender
    from townsquare.alerts.channels.smtp import SmtpSender
    from townsquare.alerts.channels.webhook import WebhookSender
    from townsquare.alerts.channels.webpush import WebPushSender

    native: dict[str, Sender] = {
        "smtp": SmtpSender(settings),
        "webpush": WebPushSender(settings),
        "webhook": WebhookSender(settings),
        "console": ConsoleSender(),
        "null": NullSender(),
    }
    return {kind: native[backend] for kind, backend in settings.alert_senders.items()}
