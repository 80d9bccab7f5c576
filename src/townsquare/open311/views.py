"""GeoReport v2 routes under /open311/v2, each in JSON and XML (`.json` / `.xml`).

Errors answer in the GeoReport format (a list of code and description) in the format asked
for, never problem+json: 403 for a missing or wrong api_key, 404 for what does not exist,
400 for anything else that cannot be done (guideline refusals name the guideline).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from townsquare.db import utcnow
from townsquare.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    TooManyRequests,
    TownsquareError,
    Unauthorized,
)
from townsquare.http.deps import DB, Config
from townsquare.open311 import catalog, georeport, submit
from townsquare.open311.schemas import Error
from townsquare.open311.xml import XML_MEDIA_TYPE, to_xml
from townsquare.posts.service import GuidelineRefusal
from townsquare.settings import Settings

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORM = "application/x-www-form-urlencoded"
Fields = list[tuple[str, str]]
JSON_MEDIA_TYPE = "application/json; charset=utf-8"


Body = BaseModel | Sequence[BaseModel]


def _plain(data: Body) -> Any:
    if not isinstance(data, BaseModel):
        return [item.model_dump(mode="json") for item in data]
    return data.model_dump(mode="json")


def render(fmt: str, root: str, data: Body, status: int = 200) -> Response:
    """The document in the format asked for: XML, or compact UTF-8 JSON."""
    if fmt == "xml":
        return Response(to_xml(root, _plain(data)), status, media_type=XML_MEDIA_TYPE)
    body = json.dumps(_plain(data), ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status, media_type=JSON_MEDIA_TYPE)


def errors_of(exc: TownsquareError) -> tuple[int, list[Error]]:
    """The HTTP status and GeoReport errors of a platform error."""
    if isinstance(exc, GuidelineRefusal):
        return 400, [Error(code=c.code, description=c.reason) for c in exc.checks]
    if isinstance(exc, Unauthorized | Forbidden):
        return 403, [Error(code=403, description=exc.detail)]
    if isinstance(exc, NotFound):
        return 404, [Error(code=404, description=exc.detail)]
    if isinstance(exc, TooManyRequests):
        return 429, [Error(code=429, description=exc.detail)]
    if isinstance(exc, InvalidParameter) or exc.status < 500:
        return 400, [Error(code=400, description=exc.detail)]
    raise exc


def answer(fmt: str, root: str, call: Callable[[], Body]) -> Response:
    """Run `call` and render its result, or the GeoReport errors it raised."""
    if fmt not in ("json", "xml"):
        error = Error(code=404, description="formats are .json and .xml")
        return render("json", "errors", [error], 404)
    try:
        return render(fmt, root, call())
    except TownsquareError as exc:
        status, errors = errors_of(exc)
        return render(fmt, "errors", errors, status)


@router.get("/discovery.{fmt}", summary="Service discovery")
def discovery(fmt: str, settings: Config) -> Response:
    """The endpoint, its formats and where to get an api_key."""
    return answer(fmt, "discovery", lambda: georeport.discovery(settings))


@router.get("/services.{fmt}", summary="Service list: the postable categories")
def service_list(fmt: str) -> Response:
    """Every request type residents may post."""
    return answer(fmt, "services", catalog.list_services)


@router.get("/services/{code}.{fmt}", summary="Service definition: the guidelines' questions")
def service_definition(code: str, fmt: str) -> Response:
    """The attributes of one service."""
    return answer(fmt, "service_definition", lambda: catalog.service_definition(code))


@router.get("/requests.{fmt}", summary="Public incidents as service requests")
def request_list(fmt: str, request: Request, session: DB) -> Response:
    """Filters: service_request_id, service_code, start_date, end_date, status."""
    # A filter may be repeated or comma-delimited (the spec allows both).
    query = request.query_params
    params = {key: ",".join(query.getlist(key)) for key in query}
    return answer(
        fmt,
        "service_requests",
        lambda: georeport.find_requests(session, georeport.parse_query(params, utcnow())),
    )


@router.get("/requests/{rid}.{fmt}", summary="One public service request")
def request_one(rid: str, fmt: str, session: DB) -> Response:
    """A list of one, as the spec shows it."""
    return answer(fmt, "service_requests", lambda: [georeport.get_request(session, rid)])


@router.post("/requests.{fmt}", summary="Post a report (api_key: a personal API token)")
async def request_create(fmt: str, request: Request, session: DB, settings: Config) -> Response:
    """Form-encoded as the spec sends it; the post waits for moderation.

    An api_key in the query is checked before a byte of the body is read, one in a
    form-encoded body as soon as its field has arrived (a wrong one stops the reading there);
    a report carries no file, so a multipart part that is one is refused before it is spooled.
    """

    async def refusal(key: str) -> Response | None:
        def key_checked() -> Body:
            submit.authorised(session, settings, key, now=utcnow())
            return []

        checked = await run_in_threadpool(answer, fmt, "service_requests", key_checked)
        return None if checked.status_code == 200 else checked

    api_key = request.query_params.get("api_key")
    if api_key is not None and (refused := await refusal(api_key)) is not None:
        return refused
    if api_key is None and request.headers.get("content-type", "").startswith(FORM):
        fields, refused = await _urlencoded(request, refusal)
        if refused is not None:
            return refused
        return await _create(fmt, session, settings, fields, None)
    try:
        form = await request.form(max_files=0)
    except HTTPException as exc:  # a file part, a broken multipart: GeoReport's own 400
        unreadable = InvalidParameter("body", str(exc.detail))

        def unread() -> Body:
            raise unreadable

        return answer(fmt, "service_requests", unread)
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    return await _create(fmt, session, settings, items, api_key)


async def _create(
    fmt: str, session: Session, settings: Settings, items: Fields, api_key: str | None
) -> Response:
    def create() -> Body:
        return [submit.create_request(session, settings, items, api_key=api_key, now=utcnow())]

    return await run_in_threadpool(answer, fmt, "service_requests", create)


async def _urlencoded(
    request: Request, refusal: Callable[[str], Awaitable[Response | None]]
) -> tuple[Fields, Response | None]:
    """A form-encoded body's fields, read chunk by chunk; its api_key goes to `refusal` once
    its field is complete (a later `&` ends it), and a refusal stops the reading there."""
    body = bytearray()
    checked = False
    async for chunk in request.stream():
        body += chunk
        if not checked and (key := _field(bytes(body).rpartition(b"&")[0], "api_key")) is not None:
            checked = True
            if (refused := await refusal(key)) is not None:
                return [], refused
    pairs = parse_qsl(bytes(body), keep_blank_values=True)
    return [(_text(name), _text(value)) for name, value in pairs], None


def _field(complete: bytes, name: str) -> str | None:
    for pair in complete.split(b"&"):
        key, _, value = pair.partition(b"=")
        if _text(unquote_to_bytes(key.replace(b"+", b" "))) == name:
            return _text(unquote_to_bytes(value.replace(b"+", b" ")))
    return None


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")
