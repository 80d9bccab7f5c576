"""Polling sources at their intervals, each in its own worker, with backoff and a breaker.

A source is polled when due: conditionally (ETag / If-Modified-Since, `service.poll`), with
its own timeout. A failure doubles the wait (from the poll interval up to `MAX_BACKOFF_S`,
with jitter so that sources failing together do not retry together). After
`BREAKER_FAILURES` failures in a row the circuit opens: no request for `BREAKER_OPEN_S`,
then one trial; success closes it. Every poll runs in a worker thread of its own, so a slow
or hanging source only ever delays itself. The clock and the random source are passed in,
so tests drive the scheduler without waiting.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from townsquare.db import transaction, utcnow
from townsquare.errors import TownsquareError
from townsquare.ingest import service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import Source
from townsquare.places.service import Geocoder

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0
BREAKER_FAILURES = 5
BREAKER_OPEN_S = 900.0
DEFAULT_INTERVAL_S = 300
Clock = Callable[[], datetime]


def backoff_s(interval_s: float, failures: int, rng: random.Random) -> float:
    """Seconds to wait after `failures` failures in a row: doubled each time, jittered."""
    if failures <= 0:
        return interval_s
    ceiling = min(MAX_BACKOFF_S, interval_s * 2.0 ** (failures - 1))
    return ceiling * rng.uniform(0.5, 1.0)


@dataclass
class _Slot:
    """One source as the scheduler tracks it."""

    config: SourceConfig
    due: datetime
    failures: int = 0
    open_until: datetime | None = None
    running: Future[None] | None = None
    polls: int = 0


@dataclass
class Scheduler:
    """Polls each source when due, never more than once at a time per source."""

    factory: sessionmaker[Session]
    configs: list[SourceConfig]
    clock: Clock = utcnow
    rng: random.Random = field(default_factory=random.Random)
    geocoder: Geocoder | None = None
    """Places records of sources that give addresses but no coordinates."""
    _slots: dict[str, _Slot] = field(init=False, default_factory=dict)
    _pool: ThreadPoolExecutor = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        now = self.clock()
        self._slots = {c.slug: _Slot(c, now) for c in self.configs}
        # One worker per source: a hanging source holds its own worker and no other.
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(self.configs)), thread_name_prefix="poll"
        )

    def tick(self) -> list[Future[None]]:
        """Start a poll of every source that is due and not already being polled."""
        now = self.clock()
        started = []
        with self._lock:
            for slot in self._slots.values():
                if slot.running is not None and not slot.running.done():
                    continue
                if slot.due > now or (slot.open_until is not None and slot.open_until > now):
                    continue
                slot.running = self._pool.submit(self._poll, slot)
                started.append(slot.running)
        return started

    def next_due(self) -> datetime | None:
        """When the next source becomes due (None with no sources)."""
        with self._lock:
            times = [max(s.due, s.open_until or s.due) for s in self._slots.values()]
        return min(times, default=None)

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set, sleeping until the next source is due."""
        while not stop.is_set():
            self.tick()
            due = self.next_due()
            wait = 1.0 if due is None else (due - self.clock()).total_seconds()
            stop.wait(min(max(wait, 0.5), 60.0))

    def close(self) -> None:
        """Stop starting polls and wait for those in progress (each is bounded by a timeout)."""
        self._pool.shutdown(wait=True)

    def _poll(self, slot: _Slot) -> None:
        config = slot.config
        interval = float(config.poll_interval_s or DEFAULT_INTERVAL_S)
        slot.polls += 1
        try:
            service.poll(self.factory, config, now=self.clock(), geocoder=self.geocoder)
        except (TownsquareError, OSError) as exc:
            self._failed(slot, interval, exc)
            return
        except Exception as exc:  # a bug in one adapter must not stop the scheduler
            log.exception("poll crashed", extra={"source": config.slug})
            self._failed(slot, interval, exc)
            return
        with self._lock:
            slot.failures, slot.open_until = 0, None
            slot.due = self.clock() + timedelta(seconds=interval)

    def _failed(self, slot: _Slot, interval: float, exc: Exception) -> None:
        now = self.clock()
        with self._lock:
            slot.failures += 1
            slot.due = now + timedelta(seconds=backoff_s(interval, slot.failures, self.rng))
            if slot.failures >= BREAKER_FAILURES:
                slot.open_until = now + timedelta(seconds=BREAKER_OPEN_S)
            open_until = slot.open_until
        log.warning(
            "poll failed",
            extra={
                "source": slot.config.slug,
                "count": slot.failures,
                "status": type(exc).__name__,
            },
        )
        set_circuit(self.factory, slot.config.slug, open_until)


def set_circuit(factory: sessionmaker[Session], slug: str, open_until: datetime | None) -> None:
    """Show on the source until when its circuit breaker is open (None: closed)."""
    with transaction(factory) as session:
        source = session.scalar(select(Source).where(Source.slug == slug))
        if source is not None:
            source.circuit_open_until = open_until


def stored_configs(factory: sessionmaker[Session]) -> list[SourceConfig]:
    """The configurations of every stored source that has a poll interval."""
    found = []
    with factory() as session:
        for source in session.scalars(select(Source).order_by(Source.slug)):
            config = SourceConfig.model_validate(source.config)
            if config.poll_interval_s and config.kind != "push":
                found.append(config)
    return found
