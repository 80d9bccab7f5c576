"""The feed's query parameters, declared once, and the one way a route reads a feed page.

The JSON feed, Atom, CAP index and the web page share them; `FeedParams` documents them in
OpenAPI and validates them into a `FeedQuery` before the route runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from townsquare.http.caching import http_date
from townsquare.http.deps import Runtime, platform_of
from townsquare.http.tracing import traced
from townsquare.incidents import search, service
from townsquare.incidents.encoded import Encoded, dumps, encode
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


async def area_params(
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


async def paged_params(
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
    """One page of the feed, through the index under its lock (the store read outside it)."""
    with traced("feed query") as span, platform.factory() as session:
        if query.text:
            with platform.index_lock:
                page = search.search_feed(session, platform.index, query)
        else:
            with platform.index_lock:
                ids = service.index_ids(platform.index, query)
            page = service.live_public(session, ids)
        if span is not None:
            span.set_attribute("townsquare.feed.items", len(page))
        return page


async def encoded_page(platform: Runtime, query: FeedQuery) -> list[Encoded]:
    """One page of the feed (no `q=`) as encoded incidents: the lock for the index alone.

    Incidents not yet encoded (the index was rebuilt with them) are read from the store once,
    off the event loop, and kept unless an event came meanwhile.
    """
    with traced("feed query") as span:
        with platform.index_lock:
            ids = service.index_ids(platform.index, query)
            found = [platform.encoded.get(i) for i in ids]
            generation = platform.encoded.generation
        if None in found:
            found = await _fill(platform, ids, found, generation)
        page = [e for e in found if e is not None]
        if span is not None:
            span.set_attribute("townsquare.feed.items", len(page))
        return page


async def _fill(
    platform: Runtime, ids: list[int], found: list[Encoded | None], generation: int
) -> list[Encoded | None]:
    missing = [i for i, e in zip(ids, found, strict=True) if e is None]
    fresh = await run_in_threadpool(_read_public, platform, missing)
    with platform.index_lock:
        platform.encoded.keep(fresh, generation)
    filled = {i.id: encode(i, platform.encoded.feature) for i in fresh}
    return [e if e is not None else filled.get(i) for i, e in zip(ids, found, strict=True)]


def _read_public(platform: Runtime, ids: list[int]) -> list[IncidentPublic]:
    with platform.factory() as session:
        return service.live_public(session, ids)


def page_etag(items: Sequence[Encoded], next_url: str | None) -> str:
    """A weak ETag of a page: its incidents' digests and its next link."""
    digest = hashlib.blake2b(b"".join(e.tag for e in items), digest_size=16)
    digest.update((next_url or "").encode())
    return f'W/"{digest.hexdigest()}"'


def feature_collection_bytes(
    items: Sequence[Encoded], next_cursor: str | None, next_url: str | None
) -> bytes:
    """The same bytes `formats.geojson.feature_collection` renders, from encoded incidents."""
    links = [{"rel": "next", "href": next_url}] if next_url else []
    return b"".join(
        (
            b'{"type":"FeatureCollection","features":[',
            b",".join(e.body for e in items),
            b'],"next_cursor":',
            dumps(next_cursor),
            b',"links":',
            dumps(links),
            b"}",
        )
    )
