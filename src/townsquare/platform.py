"""The running platform's state, built by `create_app(settings)` or the CLI, never at import."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from townsquare.db import make_engine, make_sessionmaker
from townsquare.events import MemoryBus, relay
from townsquare.incidents import service as incidents
from townsquare.incidents.index import FeedIndex
from townsquare.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """Settings, store, bus and feed index of one process."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    bus: MemoryBus = field(default_factory=MemoryBus)
    index: FeedIndex = field(default_factory=FeedIndex)
    index_lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Platform:
        """Connect to the configured store; nothing is read yet."""
        engine = make_engine(settings.resolved_database_url())
        return cls(settings, engine, make_sessionmaker(engine))

    def start(self) -> None:
        """Rebuild the feed index from the store and follow the bus from now on."""
        with self.factory() as session:
            index = incidents.load_index(session)
        with self.index_lock:
            self.index = index
        self.bus.subscribe(self._on_event)
        log.info("feed index built", extra={"incidents": len(index)})

    def _on_event(self, topic: str, payload: dict[str, Any]) -> None:
        with self.index_lock:
            incidents.apply_event(self.factory, self.index, topic, payload)

    def relay_once(self) -> int:
        """Relay committed outbox events to the bus (and so to the index)."""
        return relay(self.factory, self.bus)
