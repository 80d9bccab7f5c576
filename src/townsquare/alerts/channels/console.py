"""Senders for development and tests: `console` logs each message, `null` drops it."""

from __future__ import annotations

import logging

from townsquare.alerts.channels import Outgoing
from townsquare.alerts.render import headline

log = logging.getLogger(__name__)


class ConsoleSender:
    """Logs what would have been sent (never the target: it is personal data)."""

    def send(self, message: Outgoing) -> None:
        """Log the message's headline."""
        log.info(
            "alert (console sender)",
            extra={
                "delivery": message.delivery_id,
                "kind": message.kind,
                "text": headline(message.body),
            },
        )


class NullSender:
    """Counts every message as delivered and does nothing."""

    def send(self, message: Outgoing) -> None:
        """Do nothing."""
