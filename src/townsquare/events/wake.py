"""Waking the outbox relay as soon as an event commits, on PostgreSQL.

The relay polls the outbox (`relay_interval_s`, 0.2 s by default): a process that did not
make a change learnt of it up to one interval late, and live streams got it as late. On
PostgreSQL `announce` also sends a NOTIFY, which the server delivers when (and only if) the
announcing transaction commits; each serving process listens on its own connection and
wakes its relay at once. Polling stays, for SQLite and for a lost listening connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg
from sqlalchemy import Engine

from townsquare.events.outbox import WAKE_CHANNEL

log = logging.getLogger(__name__)
RECONNECT_S = 5.0
POLL_S = 1.0
"""How often the listening thread looks whether it should stop."""


def listens(engine: Engine) -> bool:
    """True if the store can wake the relay (PostgreSQL through psycopg)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


class OutboxWake:
    """Sets `event` on `loop` each time an announcing transaction commits anywhere."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.loop = loop
        self.event = asyncio.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="outbox-wake", daemon=True)

    def start(self) -> None:
        """Listen from now on, in a thread of its own."""
        self.thread.start()

    def stop(self) -> None:
        """Stop listening (within `POLL_S`)."""
        self.stopping.set()

    def _listen(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {WAKE_CHANNEL}")
                    while not self.stopping.is_set():
                        for _ in connection.notifies(timeout=POLL_S, stop_after=1):
                            self.loop.call_soon_threadsafe(self.event.set)
            except Exception:  # the periodic relay carries on meanwhile
                log.warning("outbox listening connection lost; retrying", exc_info=True)
                self.stopping.wait(RECONNECT_S)
