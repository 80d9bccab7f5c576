"""Delivery channels: each kind (e-mail, Web Push, webhook, a third party's) is one class.

A channel kind registers under the entry-point group `townsquare.alert_channels` (the
built-in ones in pyproject.toml, exactly as a third-party package would; code that cannot
ship an entry point calls `registry.register_channel`). The class declares what the
`AlertChannel` protocol lists: its name, what a subscription's target must look like, where
it sits on the alerts page, and how it sends. A sender gets one `Outgoing` message and either
returns (delivered) or raises `SendError` saying whether trying again can help and whether
the target is gone for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

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


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store keeps of a new channel."""

    target: dict[str, Any]
    """The JSON the sender gets back as `Outgoing.target`."""
    secret: str | None = None
    """A key shown to the owner once (the webhook's signing key)."""
    confirmed: bool = True
    """False only for e-mail: nothing is sent before the address follows its mailed link."""


class AlertChannel(Protocol):
    """A channel kind, found by `kind` in the `townsquare.alert_channels` entry points.

    A channel with settings of its own reads them in `sender` from its own pydantic-settings
    model (variables `TOWNSQUARE_<KIND>_...`): they are validated when the alert engine
    starts, with the platform's.
    """

    kind: ClassVar[str]
    """The name subscriptions give (`{"kind": "email", ...}`) and the store keeps."""
    label: ClassVar[str]
    """The choice on the alerts page ("e-mail")."""
    position: ClassVar[int]
    """Where that choice sits among the others (lower first)."""
    form_field: ClassVar[str | None]
    """The target field the page's one text box fills ("address"); None: the page's script
    makes the target itself (Web Push) or the channel is offered through the API only."""
    Target: ClassVar[type[BaseModel]]
    """What a subscription gives besides `kind`: validated on every request."""
    sender_name: ClassVar[str]
    """Its own backend in TOWNSQUARE_ALERT_SENDERS ("smtp"); `console` and `null` always work."""
    default_backend: ClassVar[str]
    """The backend without configuration: `sender_name`, or `console` (e-mail)."""
    duplicate_error: ClassVar[str | None]
    """Set: the same target twice in one subscription is refused with this message."""

    def store(self, target: Any, now: datetime) -> Stored:
        """What to keep of a validated `Target`."""
        ...

    def sender(self, settings: Settings) -> Sender:
        """The sender of `sender_name`, built once when the alert engine starts."""
        ...


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The sender of each channel kind, as TOWNSQUARE_ALERT_SENDERS chooses (checked here)."""
    from townsquare.alerts.channels.registry import senders

    return senders(settings)
