"""`GET /api/v1/stream`: Server-Sent Events of new, updated and removed incidents of an area.

Streams are bounded per client address: at most `stream_max_per_address` open at once (429
past it), and a client that takes longer than `stream_send_timeout_s` to take one write is
closed, freeing its slot (a stalled reader otherwise held its connection for ever, blocked
in the server's write).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from townsquare.errors import InvalidParameter, TooManyRequests
from townsquare.http.deps import Client, platform_of
from townsquare.incidents.schemas import BBox, Circle, parse_area
from townsquare.live.direct import DirectWriter
from townsquare.live.hub import DROPPED, FLUSH, KEEPALIVE, LiveEvent, StreamHub
from townsquare.live.rawsend import RAW_SEND

log = logging.getLogger(__name__)
router = APIRouter()
Param = Annotated[str | None, Query()]
RETRY_MS = 3000
MAX_EVENT_ID = 2**63 - 1
PROCESS_HEADER = "X-Townsquare-Process"
"""Names the serving process (its id): with `serve --workers N`, which worker holds a stream."""


def _after(value: str | None) -> int | None:
    """The id to resume after; 422 for anything no stream sent (digits only, in range:
    `isdigit` alone let "²" and 5,000-digit ids through to `int` and the store)."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdecimal()) or len(value) > len(str(MAX_EVENT_ID)):
        raise InvalidParameter("Last-Event-ID", "must be an event id sent by this stream")
    after = int(value)
    if after > MAX_EVENT_ID:
        raise InvalidParameter("Last-Event-ID", "must be an event id sent by this stream")
    return after


async def _events(
    hub: StreamHub, area: Circle | BBox, after: int | None, direct: DirectWriter
) -> AsyncIterator[bytes]:
    seen = direct.seen
    client = hub.add(area)  # before reading the backlog, so nothing falls in between
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        start = await asyncio.to_thread(hub.resume_point)
        if after is None or after > start:  # past the newest event (another store): none
            yield LiveEvent(start, "ready", None, None, "{}").frame
        else:
            for event in await asyncio.to_thread(hub.backlog, after, client.area):
                seen.add(event.id)
                yield event.frame
            yield b": resumed\n\n"
        get = client.get
        while True:
            if not client.pending:
                direct.arm(client)  # idle: the hub writes to this stream itself
            event = await get()  # idle: the hub's ticker queues KEEPALIVE
            if event is FLUSH:
                await direct.finish()
                continue
            if event is KEEPALIVE:
                yield b": keepalive\n\n"
                continue
            if event is DROPPED:
                return  # too slow: the browser reconnects and resumes with Last-Event-ID
            if event.id in seen:
                continue
            seen.add(event.id)
            yield event.frame
    finally:
        client.write = None
        hub.remove(client)


class BoundedStream(StreamingResponse):
    """An event stream holding one of its address's slots until its connection ends, and
    ended when its client takes longer than `send_timeout_s` to take one write."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        hub: StreamHub,
        address: str,
        send_timeout_s: float,
        direct: DirectWriter,
    ) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                PROCESS_HEADER: str(os.getpid()),  # which worker of a node holds the stream
            },
        )
        self.hub, self.address, self.send_timeout_s = hub, address, send_timeout_s
        self.frame_send: Send | None = None
        self.direct = direct
        hub.open_from[address] += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream, each write bounded in time; the slot is given back however it ends.

        The bound is the hub's watchdog, not a timeout per write: `asyncio.wait_for` made a
        task per write, for every client of every event.
        """
        hub, task = self.hub, asyncio.current_task()
        assert task is not None  # an ASGI app runs in a task
        clock = asyncio.get_running_loop().time

        def bounded(inner: Send) -> Send:
            async def timed(message: Message) -> None:
                hub.writing_since(self, clock(), task)
                await inner(message)
                hub.written(self)

            return timed

        raw = scope.get(RAW_SEND)
        self.frame_send = bounded(raw) if raw is not None else None
        self.direct.use(raw)

        def watch(writing: bool) -> None:
            if writing:
                hub.writing_since(self, clock(), task)
            else:
                hub.written(self)

        self.direct.watch = watch
        try:
            await super().__call__(scope, receive, bounded(send))
        except asyncio.CancelledError:
            if self not in hub.stalled:
                raise
            task.uncancel()  # the server ends the connection (the response is incomplete)
            log.info("live stream closed: its client took no write in %s s", self.send_timeout_s)
        finally:
            hub.written(self)
            hub.stalled.discard(self)
            closing: Any = getattr(self.body_iterator, "aclose", None)
            if closing is not None:
                await closing()  # the stream leaves the hub now, not when collected
            hub.open_from[self.address] -= 1
            if hub.open_from[self.address] <= 0:
                del hub.open_from[self.address]

    async def stream_response(self, send: Send) -> None:
        """The start and first frame through the middlewares, the next frames straight to the
        server when `RawSend` gave its `send` (`townsquare.live.rawsend`)."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        frames = self.body_iterator.__aiter__()
        first = await anext(frames, None)
        if first is not None:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            direct = self.frame_send or send
            async for frame in frames:
                await direct({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@router.get(
    "/api/v1/stream",
    tags=["feed"],
    summary="Live Server-Sent Events of the incidents of a circle or box",
    response_class=StreamingResponse,
    responses={429: {"description": "Too many streams open from this address"}},
)
async def stream(
    request: Request,
    address: Client,
    lat: Param = None,
    lon: Param = None,
    radius_m: Param = None,
    bbox: Param = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Events `incident.published`, `incident.updated` (GeoJSON Feature), `incident.removed`."""
    platform = platform_of(request)
    area = parse_area(lat, lon, radius_m, bbox, platform.settings.max_radius_m)
    after = _after(last_event_id or request.query_params.get("last_event_id"))
    settings = platform.settings
    if platform.hub.open_from[address] >= settings.stream_max_per_address:
        raise TooManyRequests(
            f"{settings.stream_max_per_address} live streams are open from this address already"
        )
    direct = DirectWriter()
    events = _events(platform.hub, area, after, direct)
    return BoundedStream(events, platform.hub, address, settings.stream_send_timeout_s, direct)
