"""Routes of the ingestion domain: source health, and records pushed by agencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.http.deps import DB, optional_actor, platform_of
from townsquare.ingest import health, pushed
from townsquare.ingest.schemas import SourceDetail, SourcePublic
from townsquare.places.views import geocoder_of

router = APIRouter()


@router.get("/api/v1/sources", tags=["sources"], summary="Each feed source and its status")
def list_sources(
    session: DB, actor: Annotated[Actor | None, Depends(optional_actor)]
) -> list[SourceDetail] | list[SourcePublic]:
    """GET every source: name, kind, agency and ok/lagging/failing; operators get the details."""
    return health.source_list(session, actor=actor, now=utcnow())


@router.post(
    "/api/v1/sources/{slug}/records",
    status_code=202,
    tags=["sources"],
    summary="Records pushed by the agency's dispatch system (signed; see docs/add-a-feed.md)",
)
async def push_records(request: Request, slug: str) -> dict[str, Any]:
    """POST a body in the source's format; 401 bad credentials, 409 replay, 413 too large."""
    factory = platform_of(request).factory
    config = await run_in_threadpool(pushed.push_config, factory, slug)
    limit = config.push.max_bytes if config.push else 0
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:  # stop reading: the limit bounds memory, not just the answer
            raise pushed.PushTooLarge(f"body larger than {limit} bytes")
    headers = {k.lower(): v for k, v in request.headers.items()}
    geocoder = geocoder_of(request) if config.fields.geocodes() else None
    report = await run_in_threadpool(
        pushed.receive, factory, config, bytes(body), headers, now=utcnow(), geocoder=geocoder
    )
    return {
        "received": report.received,
        "created": report.created,
        "updated": report.updated,
        "merged": report.merged,
        "unchanged": report.unchanged,
        "quarantined": report.quarantined,
    }
