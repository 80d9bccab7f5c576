"""One privacy-safe log line and one metric sample per request.

The line names the method, the route *template* (`/api/v1/incidents/{incident_id}`, never the
path a client typed nor its query string, which holds coordinates), the status, the duration
and a request id (the client's `X-Request-ID` if it is a plain token, else a new one, echoed
back so a reader's report can be found). No address, no user agent, no account.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.http.metrics import Metrics

log = logging.getLogger("townsquare.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
REQUEST_ID_KEY = "townsquare.request_id"
UNMATCHED = "(unmatched)"
"""The route of a request no route took: a 404 of any path counts once, not once per path."""


def route_of(scope: Scope) -> str:
    """The template of the route that took the request, or UNMATCHED."""
    path: object = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    root = str(scope.get("root_path", ""))
    return f"{root}/*" if root else UNMATCHED  # a mount (static files): its prefix alone


def request_id_of(scope: Scope) -> str:
    """The client's request id if it is a plain token, else a fresh one, kept in the scope so
    the log line, the response header and the trace name the same id."""
    kept = scope.get(REQUEST_ID_KEY)
    if isinstance(kept, str):
        return kept
    chosen = uuid.uuid4().hex
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            sent = bytes(value).decode("latin-1")
            if REQUEST_ID.match(sent):
                chosen = sent
                break
    scope[REQUEST_ID_KEY] = chosen
    return chosen


class AccessLog:
    """Logs and counts every HTTP request once its response has started (or failed)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        status = 500  # what the client gets when the app raises before answering

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            self.metrics.observe_request(scope["method"], route, status, seconds)
            if log.isEnabledFor(logging.INFO):
                _log_line(scope["method"], route, status, seconds, request_id)


def _log_line(method: str, route: str, status: int, seconds: float, request_id: str) -> None:
    log.info(
        "%s %s %s %.1fms %s",
        method,
        route,
        status,
        seconds * 1000,
        request_id,
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "request_id": request_id,
        },
    )
