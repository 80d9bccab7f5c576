"""Feed API routes: parse, call one service function, shape the response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from townsquare.db import utcnow
from townsquare.formats.atom import atom_feed
from townsquare.formats.geojson import feature, feature_collection
from townsquare.incidents import service
from townsquare.incidents.schemas import (
    FeedQuery,
    IncidentPublic,
    decode_cursor,
    encode_cursor,
    parse_area,
    parse_category,
    parse_limit,
    parse_time,
)
from townsquare.platform import Platform

router = APIRouter()
GEOJSON = "application/geo+json"
Param = Annotated[str | None, Query()]


def platform_of(request: Request) -> Platform:
    """The platform this app was built with."""
    platform: Platform = request.app.state.platform
    return platform


def feed_query(platform: Platform, params: Mapping[str, str | None]) -> FeedQuery:
    """Validate the shared feed parameters into a FeedQuery."""
    settings = platform.settings
    cursor = params.get("cursor")
    return FeedQuery(
        area=parse_area(
            params.get("lat"),
            params.get("lon"),
            params.get("radius_m"),
            params.get("bbox"),
            settings.max_radius_m,
        ),
        limit=parse_limit(params.get("limit"), settings.page_size_max),
        category=parse_category(params.get("category")),
        since=parse_time("since", params.get("since")),
        until=parse_time("until", params.get("until")),
        before=decode_cursor(cursor) if cursor else None,
    )


def public_url_of(
    platform: Platform, request: Request, path: str, cursor: str | None = None
) -> str:
    """The request's own `path` and query (with `cursor`, if given) on TOWNSQUARE_PUBLIC_URL.

    Scheme, host and root never come from the request: its Host header is the client's to say.
    """
    params = request.query_params.multi_items()
    if cursor is not None:
        params = [(k, v) for k, v in params if k != "cursor"] + [("cursor", cursor)]
    return platform.settings.absolute_url(path, params)


def run_feed(platform: Platform, query: FeedQuery) -> list[IncidentPublic]:
    """One page of the feed, through the index under its lock."""
    with platform.factory() as session, platform.index_lock:
        return service.query_feed(session, platform.index, query)


@router.get(
    "/api/v1/incidents",
    response_class=JSONResponse,
    tags=["feed"],
    summary="Newest public incidents in a circle or box (GeoJSON FeatureCollection)",
)
def list_incidents(
    request: Request,
    lat: Param = None,
    lon: Param = None,
    radius_m: Param = None,
    bbox: Param = None,
    category: Param = None,
    since: Param = None,
    until: Param = None,
    limit: Param = None,
    cursor: Param = None,
) -> Response:
    """GET the feed, newest first, with an opaque cursor for the next page."""
    platform = platform_of(request)
    query = feed_query(platform, dict(request.query_params))
    page = run_feed(platform, query)
    next_cursor = next_url = None
    if len(page) == query.limit:
        next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id)
        next_url = public_url_of(platform, request, "/api/v1/incidents", cursor=next_cursor)
    body: dict[str, Any] = feature_collection(page, next_cursor, next_url)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return JSONResponse(body, media_type=GEOJSON, headers=headers)


@router.get(
    "/api/v1/incidents/{incident_id}",
    tags=["feed"],
    summary="One public incident (GeoJSON Feature)",
)
def get_incident(request: Request, incident_id: int) -> Response:
    """GET one incident; withheld or removed ones answer 404."""
    with platform_of(request).factory() as session:
        incident = service.get_public(session, incident_id)
    return JSONResponse(feature(incident), media_type=GEOJSON)


@router.get("/feeds/atom", tags=["feeds"], summary="Atom 1.0 feed with GeoRSS points")
def atom(
    request: Request,
    lat: Param = None,
    lon: Param = None,
    radius_m: Param = None,
    bbox: Param = None,
    category: Param = None,
    limit: Param = None,
) -> Response:
    """GET the newest incidents of an area as Atom."""
    platform = platform_of(request)
    params = dict(request.query_params)
    params.pop("cursor", None)
    query = feed_query(platform, params)
    page = run_feed(platform, query)
    where = f"{query.category + ' ' if query.category else ''}incidents"
    body = atom_feed(
        page,
        title=f"Townsquare: {where} near this place",
        self_url=public_url_of(platform, request, "/feeds/atom"),
        base_url=platform.settings.site_url(),
        updated=utcnow(),
    )
    return Response(body, media_type="application/atom+xml")
