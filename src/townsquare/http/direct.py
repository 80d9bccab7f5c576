"""The hottest GET routes answered without the framework's router walk.

FastAPI matches a request against every route of every included router in turn, with its
own bookkeeping per candidate: `/healthz`, declared last, paid for a hundred matches (some
0.5 ms of a 2-core machine's time), and every route pays for resolving its dependencies. The
routes here take nothing but the request, so they are called directly by exact path, inside
the framework's exception handling (errors are problems as anywhere) and after every
middleware; the scope names the same route, so logs, metrics and traces cannot tell.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


def direct_route(routes: Iterable[BaseRoute], path: str) -> tuple[APIRoute, Handler]:
    """The first GET route at `path` (the one the router picks) and a handler calling its
    endpoint with the request alone; refused at start-up if the endpoint needs more."""
    route = next(
        (
            r
            for r in routes
            if isinstance(r, APIRoute) and r.path == path and "GET" in (r.methods or ())
        ),
        None,
    )
    if route is None:
        raise LookupError(f"no GET route at {path}")
    dependant = route.dependant
    needs = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.dependencies,
    )
    endpoint = route.endpoint
    takes_request = dependant.request_param_name is not None
    arguments = len(inspect.signature(endpoint).parameters)
    if any(needs) or arguments != int(takes_request) or not inspect.iscoroutinefunction(endpoint):
        raise ValueError(f"{path}: only an async endpoint taking the request alone is direct")
    status = route.status_code or 200

    async def handle(request: Request) -> Response:
        answer: Any = await (endpoint(request) if takes_request else endpoint())
        if isinstance(answer, Response):
            return answer
        try:  # plain JSON values (a health answer) need no encoder pass
            return JSONResponse(answer, status_code=status)
        except (TypeError, ValueError):
            return JSONResponse(jsonable_encoder(answer), status_code=status)

    return route, handle


class DirectRoutes:
    """The router's front: GETs of the given exact paths go straight to their endpoints."""

    def __init__(self, app: ASGIApp, router: Any, routes: Iterable[tuple[APIRoute, Handler]]):
        self.app = app
        self.router = router
        self.routes = {route.path: (route, handler) for route, handler in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = self.routes.get(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, handler = found
        scope.setdefault("router", self.router)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)
