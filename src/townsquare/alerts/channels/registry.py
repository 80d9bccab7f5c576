"""Channel kinds by name, found through the `townsquare.alert_channels` entry-point group.

The built-in kinds register there (pyproject.toml) as a third-party package would; a channel
that cannot ship an entry point (an application's own, a test's) calls `register_channel`,
the call the entry points go through. Nothing else lists the kinds: not the store (no CHECK
on `alert_channel.kind` since migration 0013), not the schemas, not the alerts page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from townsquare.alerts.channels import AlertChannel, Sender
from townsquare.alerts.channels.console import ConsoleSender, NullSender
from townsquare.errors import ConfigError
from townsquare.plugins import Registry
from townsquare.settings import Settings

GROUP = "townsquare.alert_channels"
CHANNELS: Registry[type[Any]] = Registry(GROUP, "channel kind", "kinds")
"""Channel classes by kind."""
EVERY_CHANNEL = ("console", "null")
"""Backends every kind may choose: log a line, or drop the message."""
KIND = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")
"""A kind's name: it is stored in `alert_channel.kind` (16 characters)."""
SCRIPTED = ("webpush",)
"""Kinds whose target the alerts page's script makes itself (no text box)."""
REQUIRED = ("label", "position", "Target", "sender_name", "default_backend", "store", "sender")


@dataclass(frozen=True, slots=True)
class Choice:
    """One channel on the alerts page."""

    kind: str
    label: str
    form_field: str | None


def register_channel(channel: type[Any]) -> type[Any]:
    """Make the channel class `channel` known under its `kind`."""
    kind = str(getattr(channel, "kind", ""))
    if not KIND.match(kind):
        raise ConfigError(f"channel kind {kind!r}: 1-16 of a-z, 0-9, _ and -, a letter first")
    return CHANNELS.register(kind, channel)


def known_channels() -> list[str]:
    """Every channel kind an installed package (or the running code) provides, sorted."""
    return CHANNELS.names()


def channel_for(kind: str) -> AlertChannel:
    """A channel of `kind`; ConfigError lists the known kinds when there is none."""
    found = CHANNELS.get(kind)
    missing = [name for name in REQUIRED if not hasattr(found, name)]
    if getattr(found, "kind", None) != kind or not KIND.match(kind) or missing:
        raise ConfigError(f"{found!r} is not a {kind!r} channel (it lacks {missing or 'kind'})")
    target = found.Target
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        raise ConfigError(f"channel {kind!r}: Target must be a Pydantic model")
    channel: AlertChannel = found()
    return channel


def choices() -> list[Choice]:
    """The channels the alerts page can fill, in their declared order."""
    found = [channel_for(kind) for kind in known_channels()]
    found = [c for c in found if c.form_field or c.kind in SCRIPTED]
    found.sort(key=lambda c: (c.position, c.kind))
    return [Choice(c.kind, c.label, c.form_field) for c in found]


def senders(settings: Settings) -> dict[str, Sender]:
    """The sender of every channel kind as TOWNSQUARE_ALERT_SENDERS chooses; ConfigError
    names a kind nobody provides and a backend a kind cannot use."""
    chosen = settings.alert_senders
    unknown = sorted(set(chosen) - set(known_channels()))
    if unknown:
        raise ConfigError(
            f"TOWNSQUARE_ALERT_SENDERS: unknown channel kind {unknown[0]!r}; "
            f"known kinds: {', '.join(known_channels())}"
        )
    built: dict[str, Sender] = {}
    for kind in known_channels():
        channel = channel_for(kind)
        backend = chosen.get(kind, channel.default_backend)
        if backend == channel.sender_name:
            built[kind] = channel.sender(settings)
        elif backend == "console":
            built[kind] = ConsoleSender()
        elif backend == "null":
            built[kind] = NullSender()
        else:
            allowed = ", ".join((channel.sender_name, *EVERY_CHANNEL))
            raise ConfigError(
                f"TOWNSQUARE_ALERT_SENDERS: {kind} cannot be sent by {backend!r} ({allowed})"
            )
    return built
