"""The feed's query parameters, declared once, and the one way a route reads a feed page.

The JSON feed, Atom, CAP index and the web page share them; `FeedParams` documents them in
OpenAPI and validates them into a `FeedQuery` before the route runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query, Request

from townsquare.http.caching import http_date
from townsquare.http.deps import Runtime, platform_of
from townsquare.http.tracing import traced
from townsquare.incidents import search, service
from townsquare.incidents.schemas import (
    FeedQuery,
    IncidentPublic,
    decode_cursor,
    parse_area,
    parse_category,
    parse_limit,
    parse_text,
    parse_time,
)

GEOJSON = "application/geo+json"
Param = Annotated[str | None, Query()]


def feed_query(platform: Runtime, params: Mapping[str, str | None]) -> FeedQuery:
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
        text=parse_text(params.get("q")),
    )


def area_params(
    request: Request,
    lat: Param = None,
    lon: Param = None,
    radius_m: Param = None,
    bbox: Param = None,
    category: Param = None,
    since: Param = None,
    until: Param = None,
    limit: Param = None,
    q: Annotated[
        str | None, Query(description="Words the public title, hundred block or category holds")
    ] = None,
) -> FeedQuery:
    """The newest incidents of an area (the first page; Atom and the CAP index have no other)."""
    params = {"lat": lat, "lon": lon, "radius_m": radius_m, "bbox": bbox, "category": category}
    params |= {"since": since, "until": until, "limit": limit, "q": q}
    return feed_query(platform_of(request), params)


def paged_params(
    query: Annotated[FeedQuery, Depends(area_params)], cursor: Param = None
) -> FeedQuery:
    """An area's feed from the cursor of a previous page."""
    return replace(query, before=decode_cursor(cursor)) if cursor else query


AreaQuery = Annotated[FeedQuery, Depends(area_params)]
FeedParams = Annotated[FeedQuery, Depends(paged_params)]


def public_url_of(platform: Runtime, request: Request, path: str, cursor: str | None = None) -> str:
    """The request's own `path` and query (with `cursor`, if given) on TOWNSQUARE_PUBLIC_URL.

    Scheme, host and root never come from the request: its Host header is the client's to say.
    """
    params = request.query_params.multi_items()
    if cursor is not None:
        params = [(k, v) for k, v in params if k != "cursor"] + [("cursor", cursor)]
    return platform.settings.absolute_url(path, params)


def last_modified(incidents: Sequence[IncidentPublic]) -> dict[str, str]:
    """The `Last-Modified` header of a page: its newest change (none for an empty page)."""
    newest = max((i.updated_at for i in incidents), default=None)
    return {"Last-Modified": http_date(newest)} if newest is not None else {}


def run_feed(platform: Runtime, query: FeedQuery) -> list[IncidentPublic]:
    """One page of the feed, through the index under its lock."""
    with traced("feed query") as span, platform.factory() as session, platform.index_lock:
        if query.text:
            page = search.search_feed(session, platform.index, query)
        else:
            page = service.query_feed(session, platform.index, query)
        if span is not None:
            span.set_attribute("townsquare.feed.items", len(page))
        return page
