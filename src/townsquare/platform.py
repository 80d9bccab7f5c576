"""The running platform's state, built by `create_app(settings)` or the CLI, never at import."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from townsquare import compiled, sealing
from townsquare.alerts.runtime import AlertEngine
from townsquare.db import make_engine, make_sessionmaker
from townsquare.deployment import check_shared
from townsquare.events.bus import Bus, MemoryBus
from townsquare.events.outbox import ANNOUNCED, relay
from townsquare.formats.geojson import feature
from townsquare.incidents import service as incidents
from townsquare.incidents.encoded import EncodedFeed
from townsquare.incidents.index import FeedIndex
from townsquare.live.hub import StreamHub
from townsquare.settings import Settings

log = logging.getLogger(__name__)


def make_bus(settings: Settings) -> Bus:
    """The bus the settings choose: in-process, or NATS JetStream for several nodes."""
    if settings.bus_url == "memory":
        return MemoryBus()
    if settings.bus_url.startswith(("nats://", "tls://")):
        from townsquare.events.nats import NatsBus

        return NatsBus(settings.bus_url, settings.bus_stream)
    raise ValueError(
        f"TOWNSQUARE_BUS_URL: expected 'memory' or nats://..., not {settings.bus_url!r}"
    )


@dataclass
class Platform:
    """Settings, store, bus, feed index, live-stream hub and alert engine of one process."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: Bus = field(default_factory=MemoryBus)
    index: FeedIndex = field(default_factory=FeedIndex)
    index_lock: threading.RLock = field(default_factory=threading.RLock)
    encoded: EncodedFeed = field(default_factory=lambda: EncodedFeed(feature))
    hub: StreamHub = field(init=False)
    alerts: AlertEngine = field(init=False)
    relay_lock: threading.Lock = field(default_factory=threading.Lock)
    relaying: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        # An engine given already bound (a test's store) keeps its key.
        sealing.bind(self.engine, sealing.server_secret(self.settings), replace=False)
        self.hub = StreamHub(self.factory, self.settings.stream_send_timeout_s)
        self.alerts = AlertEngine(self.settings, self.factory)

    @classmethod
    def from_settings(cls, settings: Settings) -> Platform:
        """Connect to the configured store; nothing is read yet.

        Several nodes that would not share their secret key and media storage are refused.
        """
        check_shared(settings)
        engine = make_engine(settings.resolved_database_url())
        return cls(settings, engine, make_sessionmaker(engine), bus=make_bus(settings))

    def start(self) -> None:
        """Rebuild the indexes from the store and follow the bus from now on."""
        compiled.warm()
        self.bus.open()
        with self.factory() as session:
            index = incidents.load_index(session)
        with self.index_lock:
            self.index = index
            self.encoded.clear()
        self.bus.subscribe(self._on_event)
        self.bus.subscribe(self.hub.on_event)
        self.alerts.start(self.bus)
        if isinstance(self.bus, MemoryBus):  # a broker may be down: never hold a request on it
            event.listen(self.factory, "after_commit", self._relay_after_commit)
        log.info("feed index built", extra={"incidents": len(index)})

    def stop(self) -> None:
        """Stop relaying on commit (the bus is closed by the caller)."""
        if event.contains(self.factory, "after_commit", self._relay_after_commit):
            event.remove(self.factory, "after_commit", self._relay_after_commit)

    def _relay_after_commit(self, session: Session) -> None:
        """Relay at once what a request of this process just committed, so its own next read
        (a removed incident, a deleted account's calls) already sees it. In-process bus only:
        with a broker, nodes learn through it and the periodic relay rides out its outages."""
        # a handler committing during a relay of this thread leaves its events to that relay
        if not session.info.pop(ANNOUNCED, False) or getattr(self.relaying, "on", False):
            return
        try:
            self.relay_once()
        except Exception:
            log.warning("relay after commit failed; the periodic relay sends it", exc_info=True)

    def _on_event(self, topic: str, payload: dict[str, Any]) -> None:
        change = incidents.read_event(self.factory, topic, payload)  # the store, unlocked
        if change is not None:
            with self.index_lock:
                incidents.apply_change(self.index, self.encoded, change)

    def relay_once(self) -> int:
        """Relay committed outbox events to the bus (and so to the index), one relay at a time
        in this process (SQLite has no SKIP LOCKED: two at once could send an event twice)."""
        with self.relay_lock:
            self.relaying.on = True
            try:
                return relay(self.factory, self.bus)
            finally:
                self.relaying.on = False
