"""Errors as RFC 9457 problem+json: every `TownsquareError`, and malformed requests."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from townsquare.errors import (
    InvalidBody,
    InvalidParameter,
    NotFound,
    StorageFull,
    TooManyRequests,
    TownsquareError,
    out_of_space,
)
from townsquare.settings import Settings

PROBLEM = "application/problem+json"
TYPES_PATH = "/api/v1/problems"
"""Where each problem `type` is described, on the public URL (the type is a real page)."""
PAGED = frozenset({404, 405, 410, 500, 502, 507})
"""Errors a browser sees as the site's own page: the rest keep the page of the route or the
form that explains them (a refused form shows itself again with the reason)."""
OUT_OF_RANGE = "22003"
"""SQLSTATE numeric_value_out_of_range."""


def type_url(request: Request, slug: str) -> str:
    """The absolute URL describing problem type `slug`, on TOWNSQUARE_PUBLIC_URL."""
    platform = getattr(request.scope.get("app"), "state", None)
    settings: Settings | None = getattr(getattr(platform, "platform", None), "settings", None)
    path = f"{TYPES_PATH}/{slug}"
    return settings.absolute_url(path) if settings is not None else path


def problem_types() -> dict[str, type[TownsquareError]]:
    """Every problem type the server may answer with, by slug."""
    found: dict[str, type[TownsquareError]] = {}
    pending: list[type[TownsquareError]] = [TownsquareError]
    while pending:
        kind = pending.pop()
        found[kind.title.lower().replace(" ", "-")] = kind
        pending.extend(kind.__subclasses__())
    return found


class ProblemType(BaseModel):
    """What one problem `type` URL describes."""

    type: str
    title: str
    status: int
    description: str


types_router = APIRouter(tags=["operations"])


@types_router.get(TYPES_PATH + "/{slug}", summary="What a problem type means")
def describe_problem(slug: str, request: Request) -> ProblemType:
    """The page a problem's `type` URL points to."""
    kind = problem_types().get(slug)
    if kind is None:
        raise NotFound(f"no problem type {slug!r}")
    return ProblemType(
        type=type_url(request, slug),
        title=kind.title,
        status=kind.status,
        description=" ".join((kind.__doc__ or kind.title).split()),
    )


def page_for(request: Request, status: int) -> Response | None:
    """The site's HTML page for `status` when a browser asked for a page (the web part set
    `app.state.problem_page`); None for the API and programs, which get problem+json."""
    make = getattr(request.app.state, "problem_page", None)
    if make is None:
        return None
    shown: Response | None = make(request, status)
    return shown


def problem(request: Request, exc: TownsquareError) -> Response:
    """RFC 9457 problem details for any platform error (a page, for a browser)."""
    if exc.status in PAGED and (shown := page_for(request, exc.status)) is not None:
        return shown
    body: dict[str, object] = {
        "type": type_url(request, exc.type_slug),
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": request.url.path,
    }
    if isinstance(exc, InvalidParameter):
        body["parameter"] = exc.parameter
    headers = {}
    if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM, headers=headers)


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    """The first thing wrong with a request's parameters or body, as an invalid parameter."""
    first = exc.errors()[0] if exc.errors() else {"loc": ("request",), "msg": "invalid"}
    if first.get("type") == "json_invalid":  # its last "loc" is a character position
        at = first["loc"][-1]
        return problem(request, InvalidParameter("body", f"not valid JSON (at character {at})"))
    name = str(first["loc"][-1])
    return problem(request, InvalidParameter(name, str(first["msg"])))


async def unreadable_body(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's 400 for a body they could not parse, as problem+json
    naming the body; any other HTTP error keeps FastAPI's own answer."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in PAGED and (shown := page_for(request, exc.status_code)) is not None:
        return shown
    if exc.status_code != 400:
        return await http_exception_handler(request, exc)
    return problem(request, InvalidBody("body", str(exc.detail)))


def out_of_range(request: Request, exc: Exception) -> Response:
    """An id past the store's integer range names nothing: 404, not a server error.

    SQLite cannot bind an integer past 2^63 (OverflowError); PostgreSQL refuses one past its
    column's range (SQLSTATE 22003). Any other data error is the server's own and stays a 500.
    """
    if isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) != OUT_OF_RANGE:
        raise exc
    return problem(request, NotFound("nothing has this id: it is past the store's range"))


def disk_full(request: Request, exc: Exception) -> Response:
    """A write the disk had no room for: 507, saying nothing was kept; else a server error."""
    if not out_of_space(exc):
        raise exc
    full = StorageFull(
        "the server's storage is full: nothing of this request was kept; retry later"
    )
    return problem(request, full)


def server_error(request: Request, exc: Exception) -> Response:
    """Anything unforeseen: the site's error page for a browser, else a 500 problem; the
    exception itself still reaches the log."""
    return page_for(request, 500) or problem(request, TownsquareError("an unexpected error"))


def install(app: FastAPI) -> None:
    """Answer every platform error and malformed request with problem+json."""
    app.include_router(types_router)
    app.add_exception_handler(TownsquareError, problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, unreadable_body)
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
    app.add_exception_handler(OSError, disk_full)
    app.add_exception_handler(OperationalError, disk_full)
    app.add_exception_handler(Exception, server_error)
