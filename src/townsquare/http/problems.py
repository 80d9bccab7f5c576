"""Errors as RFC 9457 problem+json: every `TownsquareError`, and malformed requests."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from townsquare.errors import InvalidParameter, NotFound, TownsquareError
from townsquare.settings import Settings

PROBLEM = "application/problem+json"
TYPES_PATH = "/api/v1/problems"
"""Where each problem `type` is described, on the public URL (the type is a real page)."""
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


def problem(request: Request, exc: TownsquareError) -> JSONResponse:
    """RFC 9457 problem details for any platform error."""
    body: dict[str, object] = {
        "type": type_url(request, exc.type_slug),
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
    name = str(first["loc"][-1])
    return problem(request, InvalidParameter(name, str(first["msg"])))


def out_of_range(request: Request, exc: Exception) -> JSONResponse:
    """An id past the store's integer range names nothing: 404, not a server error.

    SQLite cannot bind an integer past 2^63 (OverflowError); PostgreSQL refuses one past its
    column's range (SQLSTATE 22003). Any other data error is the server's own and stays a 500.
    """
    if isinstance(exc, DataError) and getattr(exc.orig, "sqlstate", None) != OUT_OF_RANGE:
        raise exc
    return problem(request, NotFound("nothing has this id: it is past the store's range"))


def install(app: FastAPI) -> None:
    """Answer every platform error and malformed request with problem+json."""
    app.include_router(types_router)
    app.add_exception_handler(TownsquareError, problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
