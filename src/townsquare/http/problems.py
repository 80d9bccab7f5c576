"""Errors as RFC 9457 problem+json: every `TownsquareError`, and malformed requests."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from townsquare.errors import (
    InvalidBody,
    InvalidParameter,
    NotFound,
    StorageFull,
    TownsquareError,
    out_of_space,
)

PROBLEM = "application/problem+json"
OUT_OF_RANGE = "22003"
"""SQLSTATE numeric_value_out_of_range."""


def problem(request: Request, exc: TownsquareError) -> JSONResponse:
    """RFC 9457 problem details for any platform error."""
    body: dict[str, object] = {
        "type": f"https://townsquare.example/problems/{exc.type_slug}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "instance": request.url.path,
    }
    if isinstance(exc, InvalidParameter):
        body["parameter"] = exc.parameter
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM)


def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
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
    if exc.status_code != 400:
        return await http_exception_handler(request, exc)
    return problem(request, InvalidBody("body", str(exc.detail)))


def out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """An id past the store's integer range names nothing: 404, not a server error.

    SQLite cannot bind an integer past 2^63 (OverflowError); PostgreSQL refuses one past its
    column's range (SQLSTATE 22003). Any other data error is the server's own and stays a 500.
    """
    if isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) != OUT_OF_RANGE:
        raise exc
    return problem(request, NotFound("nothing has this id: it is past the store's range"))


def disk_full(request: Request, exc: Exception) -> JSONResponse:
    """A write the disk had no room for: 507, saying nothing was kept; else a server error."""
    if not out_of_space(exc):
        raise exc
    full = StorageFull(
        "the server's storage is full: nothing of this request was kept; retry later"
    )
    return problem(request, full)


def install(app: FastAPI) -> None:
    """Answer every platform error and malformed request with problem+json."""
    app.add_exception_handler(TownsquareError, problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, unreadable_body)
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
    app.add_exception_handler(OSError, disk_full)
    app.add_exception_handler(OperationalError, disk_full)
