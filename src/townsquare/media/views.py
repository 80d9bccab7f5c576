"""Media API routes: upload a photo, read its derivative or (owner only) its original."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile
from fastapi.responses import Response

from townsquare.accounts.views import DB, Config, CurrentActor
from townsquare.db import utcnow
from townsquare.errors import PayloadTooLarge
from townsquare.media import service

router = APIRouter(prefix="/api/v1/media", tags=["media"])
CHUNK = 1 << 20


@router.post("", status_code=201, summary="Upload a photo")
async def upload(
    file: UploadFile, actor: CurrentActor, session: DB, settings: Config
) -> dict[str, int]:
    """Read in chunks and stop at the limit, so memory stays bounded."""
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > settings.media_max_image_bytes:
            raise PayloadTooLarge(f"photos up to {settings.media_max_image_bytes} bytes")
        parts.append(chunk)
    media_id = service.upload_media(session, settings, b"".join(parts), actor=actor, now=utcnow())
    return {"id": media_id}


@router.get("/{media_id}", summary="The public derivative (owner)")
def derivative(media_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Faces and plates blurred, no metadata."""
    data, kind = service.read_media(session, settings, media_id, False, actor=actor)
    return Response(data, media_type=kind)


@router.get("/{media_id}/original", summary="The original, to its owner only")
def original(media_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Anyone else gets 404."""
    data, kind = service.read_media(session, settings, media_id, True, actor=actor)
    return Response(data, media_type=kind)
