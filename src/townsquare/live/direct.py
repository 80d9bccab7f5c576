"""Writing an event to an idle stream from the hub's dispatch, without waking its task.

A stream parked waiting for its next event cost, per event, a task wake-up and a trip
through its generator and response before its one write. While it idles past its backlog,
the hub instead writes for it right away. Under uvicorn's httptools server the frame goes
straight to the connection's transport, chunk-framed once per event (`LiveEvent.chunk`): no
coroutine, message or framing per stream. A client whose transport is already over its high
water mark is too slow: its connection is aborted, and the browser resumes with
Last-Event-ID. Under any other server the hub calls the server's `send`: on an open
transport that write completes without waiting, so the coroutine finishes on its first
step; if it has to wait it is handed to the stream's own task (`FLUSH`), which finishes it
under the send timeout, and the stream takes its events through its queue again until it
has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.types import Send

from townsquare.live.hub import DROPPED, FLUSH, LiveEvent, StreamClient
from townsquare.live.seen import Seen

log = logging.getLogger(__name__)


HTTPTOOLS_CYCLE = "uvicorn.protocols.http.httptools_impl"
"""The module of the one server whose connection state `transport_of` knows how to read."""


def transport_of(send: Send | None) -> tuple[Any, asyncio.Transport] | None:
    """uvicorn's httptools request cycle behind `send` and its transport, or None for a send
    this module cannot write around (another server, or a wrapped send)."""
    cycle = getattr(send, "__self__", None)
    if cycle is None or type(cycle).__module__ != HTTPTOOLS_CYCLE:
        return None
    transport = getattr(cycle, "transport", None)
    if not isinstance(transport, asyncio.Transport) or not hasattr(cycle, "flow"):
        return None
    return cycle, transport


class DirectWriter:
    """The server's `send` for one stream's frames, used by the hub while the stream idles."""

    def __init__(self) -> None:
        self.send: Send | None = None
        """Set by the stream once the server's `send` is known (`RawSend` gives it)."""
        self.cycle: Any = None
        self.transport: asyncio.Transport | None = None
        """Set with `send` when it is uvicorn's httptools server's (`transport_of`)."""
        self.seen = Seen()
        self.client: StreamClient | None = None
        self.unfinished: tuple[Coroutine[Any, Any, None], Any] | None = None
        self.watch: Callable[[bool], None] = lambda writing: None
        """Tells the hub's watchdog a write started (True) or ended (False): set by the stream."""

    def use(self, send: Send | None) -> None:
        """The server's `send` for this stream's frames (and its transport, if reachable)."""
        self.send = send
        found = transport_of(send)
        self.cycle, self.transport = found if found is not None else (None, None)

    def arm(self, client: StreamClient) -> None:
        """Let the hub write to `client` directly from now on (if the server's send is known)."""
        self.client = client
        if self.transport is not None:
            client.write = self.write_transport
        elif self.send is not None and self.unfinished is None:
            client.write = self.write

    def write_transport(self, event: LiveEvent) -> None:
        """On the loop, the stream's task parked: the event's chunk onto the transport now,
        or the connection aborted if its client has not taken the last ones yet."""
        client, cycle, transport = self.client, self.cycle, self.transport
        if client is None or transport is None or event.id in self.seen:
            return
        if cycle.disconnected or cycle.response_complete or transport.is_closing():
            client.write = None
            client.put(DROPPED)
            return
        if cycle.flow.write_paused:  # over the high water mark: too slow, resumes later
            client.write = None
            transport.abort()  # the stream's task sees the disconnection and ends
            client.put(DROPPED)
            return
        self.seen.add(event.id)
        transport.write(event.chunk if cycle.chunked_encoding else event.frame)

    def write(self, event: LiveEvent) -> None:
        """On the loop, the stream's task parked: send the event's frame now."""
        client, send = self.client, self.send
        if client is None or send is None or event.id in self.seen:
            return
        self.seen.add(event.id)
        sending = send({"type": "http.response.body", "body": event.frame, "more_body": True})
        if not isinstance(sending, Coroutine):  # a server whose send is no coroutine: queue
            client.write = self.send = None
            self.seen.discard(event.id)
            client.put(event)
            return
        coro: Coroutine[Any, Any, None] = sending
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception:  # the response is over or the transport gone: the stream ends
            log.debug("direct write failed", exc_info=True)
            client.write = None
            client.put(DROPPED)
            return
        self.unfinished = (coro, waiting)  # the buffer is full: the stream's task finishes it
        client.write = None
        client.put(FLUSH)

    async def finish(self) -> None:
        """In the stream's task: finish the write that had to wait (see `write`)."""
        if self.unfinished is None:
            return
        coro, waiting = self.unfinished
        self.unfinished = None
        self.watch(True)
        while True:
            try:
                await waiting
            except asyncio.CancelledError:
                coro.close()
                raise
            except Exception:  # noqa: S110  # the write sees it when resumed, and raises
                pass
            try:
                waiting = coro.send(None)
            except StopIteration:
                self.watch(False)
                return
