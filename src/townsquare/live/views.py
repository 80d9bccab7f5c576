"""`GET /api/v1/stream`: Server-Sent Events of new, updated and removed incidents of an area."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from townsquare.errors import InvalidParameter
from townsquare.http.deps import platform_of
from townsquare.incidents.schemas import BBox, Circle, parse_area
from townsquare.live.hub import DROPPED, KEEPALIVE, LiveEvent, StreamHub

router = APIRouter()
Param = Annotated[str | None, Query()]
RETRY_MS = 3000
SEEN_MAX = 2048
MAX_EVENT_ID = 2**63 - 1


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


class Seen:
    """The ids of the last `SEEN_MAX` events sent, for a constant-time "sent already?"."""

    def __init__(self) -> None:
        self.order: deque[int] = deque()
        self.ids: set[int] = set()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.ids

    def add(self, event_id: int) -> None:
        """Remember one id, forgetting the oldest beyond `SEEN_MAX`."""
        self.order.append(event_id)
        self.ids.add(event_id)
        if len(self.order) > SEEN_MAX:
            self.ids.discard(self.order.popleft())


async def _events(hub: StreamHub, area: Circle | BBox, after: int | None) -> AsyncIterator[bytes]:
    seen = Seen()
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
            event = await get()  # idle: the hub's ticker queues KEEPALIVE
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
        hub.remove(client)


@router.get(
    "/api/v1/stream",
    tags=["feed"],
    summary="Live Server-Sent Events of the incidents of a circle or box",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
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
    return StreamingResponse(
        _events(platform.hub, area, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
