"""The alert engine of one process: geofence index, bus handlers, delivery and digest loops."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from townsquare.alerts import delivery, matching, optin, service
from townsquare.alerts.channels import Sender, build_senders
from townsquare.alerts.index import GeofenceIndex
from townsquare.alerts.vapid import VapidKeys, server_keys
from townsquare.db import utcnow
from townsquare.events import topics
from townsquare.events.bus import Bus, Event
from townsquare.settings import Settings

log = logging.getLogger(__name__)
SHARED_GROUP = "alerts"
IDLE_WAIT_S = 1.0
DIGEST_EVERY_S = 30.0


class AlertEngine:
    """Matches incidents to subscriptions and sends what that decided."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.senders = senders if senders is not None else build_senders(settings)
        self.index = GeofenceIndex()
        self.lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.observe_match: Callable[[float], None] | None = None
        """Told each batch's matching time in seconds (the app's metrics), when set."""
        self._vapid: VapidKeys | None = None

    def vapid_keys(self) -> VapidKeys:
        """The Web Push key pair (made and stored on first use), handed to the push sender."""
        with self.lock:
            if self._vapid is None:
                self._vapid = server_keys(self.factory, self.settings)
                for sender in self.senders.values():
                    use_keys = getattr(sender, "use_keys", None)
                    if callable(use_keys):
                        use_keys(self._vapid)
            return self._vapid

    def start(self, bus: Bus) -> None:
        """Rebuild the index from the store; follow subscriptions and incidents on the bus."""
        with self.factory() as session:
            index = service.load_index(session)
        with self.lock:
            self.index = index
        self.vapid_keys()
        bus.subscribe(self.on_broadcast)
        bus.subscribe_shared_batch(SHARED_GROUP, self.on_incidents)
        log.info("geofence index built", extra={"subscriptions": len(index)})

    def on_broadcast(self, topic: str, payload: dict[str, Any]) -> None:
        """Every node: keep the geofence index current."""
        if topic == topics.SUBSCRIPTION_CHANGED:
            with self.lock:
                service.refresh_index(self.factory, self.index, int(payload["id"]))

    def on_incident(self, topic: str, payload: dict[str, Any]) -> None:
        """One node per event: decide the deliveries and wake the sender."""
        self.on_incidents([(topic, payload)])

    def on_incidents(self, events: list[Event]) -> None:
        """One node per batch of events: decide them in one transaction, wake the sender."""
        self._decide(events)

    def _decide(self, events: list[Event]) -> int:
        started = time.perf_counter()
        added = matching.handle_incident_events(
            self.factory, self.index, self.lock, events, settings=self.settings, now=utcnow()
        )
        if self.observe_match is not None:
            self.observe_match(time.perf_counter() - started)
        if added:
            self.wake()
        return added

    def decide_now(self, incident_id: int) -> int:
        """Decide one incident's deliveries here and now (a curator's alert); how many added."""
        return self._decide([(topics.INCIDENT_UPDATED, {"id": incident_id})])

    def wake(self) -> None:
        """Make the delivery loop look now rather than at its next tick."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due messages and make digests until `stop` is set."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        last_digest = 0.0
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="alert-send") as pool:
            while not stop.is_set():
                # Clear before looking, not after: a wake while we look (a delivery committed
                # after the claim read) must make the wait below return at once, not be lost.
                self._wake.clear()
                try:
                    now = utcnow()
                    if self._loop.time() - last_digest >= DIGEST_EVERY_S:
                        last_digest = self._loop.time()
                        await asyncio.to_thread(
                            delivery.send_digests, self.factory, settings=self.settings, now=now
                        )
                        # An address that never confirmed is not kept past its link's life.
                        await asyncio.to_thread(optin.forget_unconfirmed, self.factory, now=now)
                    sent = await asyncio.to_thread(
                        delivery.deliver_due,
                        self.factory,
                        self.senders,
                        settings=self.settings,
                        now=now,
                        pool=pool,
                    )
                except Exception:
                    log.exception("alert delivery failed; retrying")
                    sent = 0
                if sent:
                    continue  # more may be due: look again at once
                waits = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(waits, timeout=IDLE_WAIT_S, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waits:
                    waiter.cancel()
        for sender in self.senders.values():
            close = getattr(sender, "close", None)
            if callable(close):  # pooled connections of the webhook sender
                close()
