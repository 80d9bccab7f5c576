"""The OpenAPI document, made truthful in one place after FastAPI writes it.

FastAPI documents what it can see: JSON bodies and its own validation error. Here every
operation also gets what the server really answers: problem+json errors (RFC 9457) for the
statuses it can give (401/403 where a session or token is needed, 404 where the path names
something, 413 where there is a body, 429 on writes), the feed's GeoJSON, Atom and CAP media
types with their schemas, the feed parameters as numbers, a bearer (and cookie) security
scheme, and operation ids from the handlers' names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from townsquare.http.deps import SESSION_COOKIE, current_actor
from townsquare.http.problems import PROBLEM
from townsquare.settings import Settings

GEOJSON = "application/geo+json"
ATOM = "application/atom+xml"
CAP = "application/cap+xml"
Doc = dict[str, Any]

PROBLEM_SCHEMA: Doc = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Documents the problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "parameter": {"type": "string", "description": "The parameter at fault (422)."},
    },
}
FEATURE_SCHEMA: Doc = {
    "type": "object",
    "description": "One public incident: its coarsened point and public fields.",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "integer"},
        "geometry": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2},
            },
        },
        "properties": {"type": "object"},
    },
}
FEATURE_COLLECTION_SCHEMA: Doc = {
    "type": "object",
    "description": "A page of the feed, newest first; `next_cursor` and a `Link: rel=next` "
    "header give the next page.",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
        "next_cursor": {"type": ["string", "null"]},
        "links": {"type": "array", "items": {"type": "object"}},
    },
}
XML_TEXT: Doc = {"type": "string"}
BODIES: dict[tuple[str, str], dict[str, Doc]] = {
    ("get", "/api/v1/incidents"): {GEOJSON: {"$ref": "#/components/schemas/FeatureCollection"}},
    ("get", "/api/v1/incidents/{incident_id}"): {GEOJSON: {"$ref": "#/components/schemas/Feature"}},
    ("get", "/feeds/atom"): {ATOM: XML_TEXT},
    ("get", "/feeds/cap"): {ATOM: XML_TEXT},
    ("get", "/feeds/cap/{incident_id}.xml"): {CAP: XML_TEXT},
}
"""The 200 body of routes whose media type is not JSON, replacing what FastAPI guessed."""
EXTRA_200: dict[str, Doc] = {"text/csv": {"type": "string"}}
CSV_PATHS = ("transparency",)
PARAMETERS: dict[str, Doc] = {
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "radius_m": {"type": "number", "exclusiveMinimum": 0},
    "limit": {"type": "integer", "minimum": 1},
}
"""Feed parameters, parsed by the server itself (for its own messages) but numbers all the same."""
CHECKED_INSIDE: dict[tuple[str, str], set[int]] = {
    ("post", "/api/v1/account/sign-in"): {401, 429},
    ("post", "/api/v1/media"): {401, 403},
    ("post", "/api/v1/cameras/{camera_id}/clips"): {401, 403},
    ("post", "/api/v1/sources/{slug}/records"): {401, 403},
    ("get", "/api/v1/push/key"): {404},
    ("post", "/api/v1/account/totp"): {409},
    ("post", "/api/v1/account/totp/confirm"): {409},
    ("post", "/api/v1/account/totp/disable"): {409},
    ("post", "/api/v1/footage/break-glass"): {404},
}
"""Statuses of routes that check credentials, configuration or state themselves (two-factor
already on or off: 409; a clip named in the body that does not exist: 404)."""
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
DESCRIPTIONS = {
    401: "No valid session or token.",
    403: "Signed in, but not allowed (or a missing CSRF token on a cookie session).",
    404: "Nothing public has this id.",
    409: "The account's state does not allow it now.",
    413: "The body is over its limit.",
    422: "A parameter or the body is malformed or out of range.",
    429: "Too many requests from this client or account; try again later.",
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Each documented (method, full path) and its route, through included routers."""
    found: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in context.methods or ():
                found[(method.lower(), str(context.path_format))] = route
    return found


def _problem(status: int, media: tuple[str, ...] = (PROBLEM,)) -> Doc:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": DESCRIPTIONS[status], "content": {m: {"schema": schema} for m in media}}


def _refine(method: str, path: str, op: Doc, route: APIRoute | None, taken: set[str]) -> None:
    responses: Doc = op.setdefault("responses", {})
    open311 = path.startswith("/open311/")
    media = ("application/json", "application/xml") if open311 else (PROBLEM,)
    statuses = {422} if op.get("parameters") or op.get("requestBody") else set()
    if route is not None and current_actor in set(_calls(route.dependant)):
        op["security"] = SECURITY
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    statuses |= CHECKED_INSIDE.get((method, path), set())
    if method in ("post", "put", "patch"):
        statuses |= {413, 429}
    for status in sorted(statuses):
        responses[str(status)] = _problem(status, media)
    if (method, path) in BODIES:
        ok = responses.setdefault("200", {"description": "Successful Response"})
        ok["content"] = {m: {"schema": s} for m, s in BODIES[(method, path)].items()}
    elif any(part in path for part in CSV_PATHS) and "200" in responses:
        responses["200"].setdefault("content", {}).update(
            {m: {"schema": s} for m, s in EXTRA_200.items()}
        )
    for parameter in op.get("parameters", []):
        if parameter.get("in") == "query" and parameter["name"] in PARAMETERS:
            parameter["schema"] = PARAMETERS[parameter["name"]]
    name = route.name if route is not None else op.get("operationId", f"{method}_{path}")
    if name in taken:
        name = f"{name}_{method}_{path.strip('/').replace('/', '_')}"
        name = "".join(c if c.isalnum() else "_" for c in name)
    taken.add(name)
    op["operationId"] = name


def document(app: FastAPI, settings: Settings) -> Doc:
    """The refined OpenAPI document of `app`."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=f"Problem types are documented at {settings.absolute_url('/api/v1/problems')}/"
        "{slug}. Errors are application/problem+json (RFC 9457).",
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(
        {
            "Problem": PROBLEM_SCHEMA,
            "Feature": FEATURE_SCHEMA,
            "FeatureCollection": FEATURE_COLLECTION_SCHEMA,
        }
    )
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (POST /api/v1/account/tokens).",
        },
        "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
    }
    routes = _routes(app)
    taken: set[str] = set()
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                _refine(method, path, op, routes.get((method, path)), taken)
    return doc


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the refined document (built once, on first request)."""

    def openapi() -> Doc:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
