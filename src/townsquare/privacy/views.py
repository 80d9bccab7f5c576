"""The published redaction manifest of each source."""

from __future__ import annotations

from fastapi import APIRouter, Request

from townsquare.http.deps import platform_of
from townsquare.ingest.policy import source_manifest
from townsquare.privacy.schemas import PolicyManifest

router = APIRouter()


@router.get(
    "/api/v1/sources/{source_id}/policy",
    tags=["privacy"],
    summary="What this source withholds and how the rest is redacted (the redaction manifest)",
)
def source_policy(request: Request, source_id: str) -> PolicyManifest:
    """GET the manifest of a source by id or slug; 404 if there is no such source."""
    with platform_of(request).factory() as session:
        return source_manifest(session, source_id)
