"""Live-stream fan-out: one store read per event per process, then one write per client.

Bus handlers run in threads; the hub hands each event to the server's event loop once,
and the loop writes it to every idle client whose area holds the incident at once
(`townsquare.live.direct`: straight onto its transport under uvicorn), or puts it on the
queue of a client whose task is busy. The event is framed, chunk-framed and encoded once
(every client sends the same bytes); clients are grouped by area,
so the area test is made once per distinct area and a group outside it costs nothing; idle
clients get their keep-alive comment from one ticker of the hub rather than each from a
timer of its own (a timeout per wait cost a task per event per client), and the same ticker
closes streams stuck in one write too long (a timeout per write cost a task per event per
client too). A client too slow to keep up is dropped; the browser reconnects with
Last-Event-ID and resumes from the outbox, which every node shares. Each worker process of
a node is a hub of its own, fed by the bus like another node's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from townsquare import geo
from townsquare.events import topics
from townsquare.events.outbox import OutboxEvent
from townsquare.formats.geojson import feature
from townsquare.incidents.models import Incident
from townsquare.incidents.schemas import BBox, Circle
from townsquare.incidents.service import publish_all

log = logging.getLogger(__name__)
QUEUE_MAX = 256
BACKLOG_MAX = 1000


@dataclass(frozen=True)
class LiveEvent:
    """One stream event: outbox id, SSE event name, where it is (for filtering), its data."""

    id: int
    name: str
    lat: float | None
    lon: float | None
    data: str

    def sse(self) -> str:
        """The event in text/event-stream framing."""
        return f"id: {self.id}\nevent: {self.name}\ndata: {self.data}\n\n"

    @cached_property
    def frame(self) -> bytes:
        """`sse()` encoded, made once for all the clients that get it."""
        return self.sse().encode()

    @cached_property
    def chunk(self) -> bytes:
        """`frame` as one HTTP/1.1 chunk, for writing straight to a chunked response's
        transport (`townsquare.live.direct`)."""
        frame = self.frame
        return b"%x\r\n%b\r\n" % (len(frame), frame)


DROPPED = LiveEvent(-1, "dropped", None, None, "")
KEEPALIVE = LiveEvent(-2, "keepalive", None, None, "")
"""Put on an idle client's queue by the ticker: the stream sends a comment line."""
FLUSH = LiveEvent(-3, "flush", None, None, "")
"""Put on a client's queue when a direct write had to wait: the stream's task finishes it."""


def covers(area: Circle | BBox, lat: float | None, lon: float | None) -> bool:
    """True if the area holds the point (an event without a point reaches everyone)."""
    if lat is None or lon is None:
        return True
    if isinstance(area, Circle):
        return geo.haversine_m(area.center.lat, area.center.lon, lat, lon) <= area.radius_m
    return area.west <= lon <= area.east and area.south <= lat <= area.north


@dataclass(eq=False)
class StreamClient:
    """One connected stream: its events waiting to be sent, and the stream's waiter if idle.

    Lighter than an `asyncio.Queue` (no task accounting): putting an event is an append and,
    if the stream waits, one `set_result`. `busy` notes an event since the last keep-alive.
    """

    area: Circle | BBox
    pending: deque[LiveEvent] = field(default_factory=deque)
    waiter: asyncio.Future[None] | None = None
    busy: bool = False
    write: Callable[[LiveEvent], None] | None = None
    """Set while the stream idles past its backlog: sends an event at once, on the loop
    (`townsquare.live.direct`)."""

    def put(self, event: LiveEvent) -> bool:
        """Queue one event (on the loop); False if `QUEUE_MAX` are waiting already."""
        if len(self.pending) >= QUEUE_MAX:
            return False
        self.pending.append(event)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)
        return True

    async def get(self) -> LiveEvent:
        """The next event, waiting for one if need be."""
        while not self.pending:
            waiter = self.waiter = asyncio.get_running_loop().create_future()
            await waiter
        return self.pending.popleft()


def live_events(session: Session, events: list[tuple[int, str, int]]) -> list[LiveEvent]:
    """Stream events for (outbox id, topic, incident id) triples, read in one query."""
    ids = {incident_id for _, _, incident_id in events}
    rows = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
    public = {i.id: i for i in rows.values() if i.visibility == "public"}
    shown = {p.id: feature(p) for p in publish_all(session, list(public.values()))}
    found = []
    for event_id, topic, incident_id in events:
        row = rows.get(incident_id)
        lat, lon = (row.lat, row.lon) if row else (None, None)
        if incident_id in shown and topic != topics.INCIDENT_REMOVED:
            name, data = topic, json.dumps(shown[incident_id], separators=(",", ":"))
        else:
            name, data = topics.INCIDENT_REMOVED, json.dumps({"id": incident_id})
        found.append(LiveEvent(event_id, name, lat, lon, data))
    return found


class StreamHub:
    """The clients of this process and the one path events take to them."""

    def __init__(self, factory: sessionmaker[Session], send_timeout_s: float = 30.0) -> None:
        self.factory = factory
        self.send_timeout_s = send_timeout_s
        self.clients: set[StreamClient] = set()
        self.areas: dict[Circle | BBox, set[StreamClient]] = {}
        """The clients by area: the area test is made once per area, not once per client."""
        self.writing: dict[object, tuple[float, asyncio.Task[Any]]] = {}
        """Streams in the middle of a write: since when (loop time), and the task to cancel."""
        self.stalled: set[object] = set()
        self.open_from: Counter[str] = Counter()
        """Streams open per client address (held from the answer until the connection ends)."""
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver to clients on `loop` (the server's)."""
        self._loop = loop

    def on_event(self, topic: str, payload: dict[str, Any]) -> None:
        """Bus handler: read the incident once and hand the event to the loop."""
        if not topics.about_incident(topic) or self._loop is None or not self.clients:
            return
        with self.factory() as session:
            events = live_events(
                session, [(int(payload.get("event_id", 0)), topic, int(payload["id"]))]
            )
        for event in events:
            self.deliver(event)

    def deliver(self, event: LiveEvent) -> None:
        """From any thread: hand one event to the loop, which queues it for its clients."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.dispatch, event)

    def dispatch(self, event: LiveEvent) -> None:
        """On the loop: queue the event for every client whose area holds it."""
        event.chunk  # noqa: B018  # encoded here, once, not by the first client to send it
        lat, lon = event.lat, event.lon
        slow = []
        for area, group in self.areas.items():
            if covers(area, lat, lon):
                for client in group:
                    client.busy = True
                    write = client.write
                    if write is not None and client.waiter is not None and not client.pending:
                        write(event)  # parked: no task to wake
                    elif not client.put(event):
                        slow.append(client)
        for client in slow:
            self._drop(client)

    def _put(self, client: StreamClient, event: LiveEvent) -> None:
        if not client.put(event):
            self._drop(client)

    def _drop(self, client: StreamClient) -> None:
        """Too slow: forget it, and tell it so once it reads (it reconnects and resumes)."""
        self.remove(client)
        client.pending.clear()
        client.put(DROPPED)

    def tick(self) -> None:
        """On the loop: a keep-alive to every client that got nothing since the last tick."""
        for client in list(self.clients):
            if client.busy:
                client.busy = False
            elif not client.pending:
                self._put(client, KEEPALIVE)

    async def keep_alive(self, every_s: float, stop: asyncio.Event) -> None:
        """Tick every `every_s`, and look for stuck writes twice per send timeout, until
        `stop` (a lifespan job of the server)."""
        loop = asyncio.get_running_loop()
        wake_s = min(every_s, self.send_timeout_s / 2)
        next_tick = loop.time() + every_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wake_s)
            self.close_stalled(loop.time())
            if loop.time() >= next_tick:
                self.tick()
                next_tick = loop.time() + every_s

    def writing_since(self, stream: object, since: float, task: asyncio.Task[Any]) -> None:
        """On the loop: `stream` started a write at `since` in `task` (cancelled if stuck)."""
        self.writing[stream] = (since, task)

    def written(self, stream: object) -> None:
        """On the loop: `stream`'s write is done."""
        self.writing.pop(stream, None)

    def close_stalled(self, now: float) -> None:
        """Cancel every stream whose write has waited longer than the send timeout."""
        for stream, (since, task) in list(self.writing.items()):
            if now - since > self.send_timeout_s:
                del self.writing[stream]
                self.stalled.add(stream)
                task.cancel()

    def add(self, area: Circle | BBox) -> StreamClient:
        """Register a client (before reading its backlog, so nothing falls in between)."""
        client = StreamClient(area)
        self.clients.add(client)
        self.areas.setdefault(area, set()).add(client)
        return client

    def remove(self, client: StreamClient) -> None:
        """Forget a client."""
        self.clients.discard(client)
        group = self.areas.get(client.area)
        if group is not None:
            group.discard(client)
            if not group:
                del self.areas[client.area]

    def backlog(self, after_id: int, area: Circle | BBox) -> list[LiveEvent]:
        """Events after `after_id` in the client's area, from the shared outbox."""
        with self.factory() as session:
            rows = session.execute(
                select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload)
                .where(
                    OutboxEvent.id > after_id,
                    OutboxEvent.topic.startswith(topics.INCIDENT_PREFIX),
                    OutboxEvent.relayed_at.is_not(None),
                )
                .order_by(OutboxEvent.id)
                .limit(BACKLOG_MAX)
            ).all()
            events = live_events(session, [(i, t, int(p["id"])) for i, t, p in rows])
        return [e for e in events if covers(area, e.lat, e.lon)]

    def resume_point(self) -> int:
        """The newest relayed event id: where a fresh client would resume from."""
        with self.factory() as session:
            found = session.scalar(
                select(func.max(OutboxEvent.id)).where(OutboxEvent.relayed_at.is_not(None))
            )
        return int(found or 0)
