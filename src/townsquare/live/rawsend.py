"""The server's own `send`, kept for the live stream's body frames.

Every middleware lets a stream's body frames through untouched (compression skips
`text/event-stream`, the feed cache holds feeds only, the access log and the security
headers act on the response's start), yet each frame went through every one of their
wrappers: at 5,000 streams that was ten calls per stream per event. Outermost, this keeps
the server's `send` in the stream request's scope; the stream sends its start and first
frame through the middlewares as any response, then its frames with the server's `send`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

RAW_SEND = "townsquare.raw_send"
STREAM_PATH = "/api/v1/stream"


class RawSend:
    """Outermost middleware: the server's `send` in `scope[RAW_SEND]` for live streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STREAM_PATH:
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)
