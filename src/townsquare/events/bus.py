"""The bus's interface and its in-process kind: relayed events fan out to handlers.

`townsquare.events.nats` is the kind that reaches every node; `outbox` feeds both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
Event = tuple[str, dict[str, Any]]
"""(topic, payload)"""
BatchHandler = Callable[[list[Event]], None]


class Bus(Protocol):
    """Where relayed events go; in-process by default, NATS JetStream across nodes."""

    def open(self) -> None:
        """Connect (no-op in process); called once by the platform at start."""

    def close(self) -> None:
        """Stop delivering and disconnect."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Deliver one event; returns once the bus has it (durably, for NATS)."""

    def publish_batch(self, events: Sequence[Event]) -> None:
        """Deliver events in order; returns once the bus has all of them."""

    def subscribe(self, handler: Handler) -> None:
        """Call `handler(topic, payload)` in this process for every event from now on."""

    def subscribe_shared(self, group: str, handler: Handler) -> None:
        """Call `handler` for every event in exactly one process of `group` (at least once)."""

    def subscribe_shared_batch(self, group: str, handler: BatchHandler) -> None:
        """`subscribe_shared`, with the events handed over in batches, in order."""


class MemoryBus:
    """The in-process bus: synchronous fan-out to the handlers of this process."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._batch_handlers: list[BatchHandler] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Nothing to connect to."""

    def close(self) -> None:
        """Forget every handler."""
        with self._lock:
            self._handlers.clear()
            self._batch_handlers.clear()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Call every handler; one failing handler does not stop the others."""
        self.publish_batch([(topic, payload)])

    def publish_batch(self, events: Sequence[Event]) -> None:
        """Each event to every per-event handler in order, then the batch to batch handlers."""
        if not events:
            return
        with self._lock:
            handlers = list(self._handlers)
            batch_handlers = list(self._batch_handlers)
        for topic, payload in events:
            for handler in handlers:
                try:
                    handler(topic, payload)
                except Exception:
                    log.exception("event handler failed", extra={"topic": topic})
        for batch_handler in batch_handlers:
            try:
                batch_handler(list(events))
            except Exception:
                log.exception("batch event handler failed", extra={"events": len(events)})

    def subscribe(self, handler: Handler) -> None:
        """Add a handler."""
        with self._lock:
            self._handlers.append(handler)

    def subscribe_shared(self, group: str, handler: Handler) -> None:
        """One process is the whole group: the same as `subscribe`."""
        self.subscribe(handler)

    def subscribe_shared_batch(self, group: str, handler: BatchHandler) -> None:
        """Add a batch handler: it gets each published batch once, after the per-event ones."""
        with self._lock:
            self._batch_handlers.append(handler)
