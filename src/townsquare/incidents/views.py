"""Feed API routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from townsquare.db import utcnow
from townsquare.formats.atom import atom_feed
from townsquare.formats.geojson import feature, feature_collection
from townsquare.http.caching import http_date
from townsquare.http.deps import platform_of
from townsquare.http.feed import (
    GEOJSON,
    AreaQuery,
    FeedParams,
    encoded_page,
    feature_collection_bytes,
    feed_query,
    last_modified,
    page_etag,
    public_url_of,
    run_feed,
)
from townsquare.incidents import service
from townsquare.incidents.schemas import FeedQuery, encode_cursor

router = APIRouter()


@router.get("/api/v1/incidents", include_in_schema=False)
async def list_incidents_fast(request: Request) -> Response:
    """The route that answers the feed: its parameters read directly, not one by one by the
    framework (a third of a request's cost). `list_incidents` below, never reached, is the
    same route as the API document declares it."""
    return await list_incidents(request, feed_query(platform_of(request), request.query_params))


@router.get(
    "/api/v1/incidents",
    response_class=JSONResponse,
    tags=["feed"],
    summary="Newest public incidents in a circle or box (GeoJSON FeatureCollection)",
)
async def list_incidents(request: Request, query: FeedParams) -> Response:
    """GET the feed, newest first, with an opaque cursor for the next page."""
    platform = platform_of(request)
    if query.text:  # a search filters public words: the incidents themselves, off the loop
        return await run_in_threadpool(_searched, request, query)
    page = await encoded_page(platform, query)
    next_cursor = next_url = None
    if len(page) == query.limit:
        next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id)
        next_url = public_url_of(platform, request, "/api/v1/incidents", cursor=next_cursor)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    if page:
        headers["Last-Modified"] = http_date(max(e.updated_at for e in page))
    headers["ETag"] = page_etag(page, next_url)
    body = feature_collection_bytes(page, next_cursor, next_url)
    return Response(body, media_type=GEOJSON, headers=headers)


def _searched(request: Request, query: FeedQuery) -> Response:
    """The feed through the store (a `q=` search): the incidents' public words are read."""
    platform = platform_of(request)
    page = run_feed(platform, query)
    next_cursor = next_url = None
    if len(page) == query.limit:
        next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id)
        next_url = public_url_of(platform, request, "/api/v1/incidents", cursor=next_cursor)
    body: dict[str, Any] = feature_collection(page, next_cursor, next_url)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    headers |= last_modified(page)
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
    return JSONResponse(feature(incident), media_type=GEOJSON, headers=last_modified([incident]))


@router.get("/feeds/atom", tags=["feeds"], summary="Atom 1.0 feed with GeoRSS points")
def atom(request: Request, query: AreaQuery) -> Response:
    """GET the newest incidents of an area as Atom."""
    platform = platform_of(request)
    page = run_feed(platform, query)
    where = f"{query.category + ' ' if query.category else ''}incidents"
    body = atom_feed(
        page,
        title=f"Townsquare: {where} near this place",
        self_url=public_url_of(platform, request, "/feeds/atom"),
        base_url=platform.settings.site_url(),
        updated=utcnow(),
    )
    return Response(body, media_type="application/atom+xml", headers=last_modified(page))
