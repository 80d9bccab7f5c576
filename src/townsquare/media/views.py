"""Media API routes: upload a photo or clip, read its derivative or (owner only) its original;
moderators read the derivative of media on posts they review; anyone reads the derivative of
media on an approved post, by the hash of its bytes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from townsquare.db import utcnow
from townsquare.errors import InvalidParameter
from townsquare.http.blobs import blob_response
from townsquare.http.deps import DB, Config, CurrentActor
from townsquare.media import intake, public, service
from townsquare.media.schemas import MediaOut

router = APIRouter(prefix="/api/v1/media", tags=["media"])


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    summary="Upload a photo (JPEG, PNG, HEIC) or clip (MP4, MOV)",
    openapi_extra=UPLOAD_BODY,
)
async def upload(request: Request, actor: CurrentActor, session: DB, settings: Config) -> MediaOut:
    """Typed by content; spooled to the data folder in chunks up to the type's byte limit.

    The caller is authenticated before a byte of the body is read (the body is the multipart
    field `file`). A photo (type, pixel count) or clip (type, length, frame size) is checked
    and answered `processing`; it is blurred in the background, and
    `GET /api/v1/media/{id}/info` says when it is `ready` (or `failed`, and why).
    """
    form = await request.form(max_files=1)
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidParameter("file", "send the photo or clip as the multipart field `file`")

        def store() -> MediaOut:
            with intake.receive(file.file, settings) as received:
                media_id = service.upload_media(
                    session, settings, received, actor=actor, now=utcnow()
                )
            return MediaOut.model_validate(service.owned(session, media_id, actor))

        return await run_in_threadpool(store)
    finally:
        await form.close()


PUBLIC_BODY = {
    200: {
        "description": "The blurred, metadata-free copy",
        "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "video/mp4": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}
"""Short: a removed post's media must stop being shown soon by caches too."""


# Declared before the routes of one media id, whose paths have as many segments.
@router.get(
    "/public/{name}",
    summary="The public copy of a photo or clip on an approved post (anyone)",
    responses=PUBLIC_BODY,  # type: ignore[arg-type]
)
def public_copy(name: str, session: DB, settings: Config) -> Response:
    """`name` is `<sha256>.jpg` or `.mp4` as the post or incident gives it; 404 once the post
    is no longer public (edited, rejected, removed, deleted). Originals are never here."""
    return blob_response(public.read_public(session, settings, name), PUBLIC_CACHE)


@router.get("/{media_id}/info", summary="An upload's state and size (owner)")
def info(media_id: int, actor: CurrentActor, session: DB) -> MediaOut:
    """Whether a clip's blurred copy is made yet; anyone else gets 404."""
    return MediaOut.model_validate(service.owned(session, media_id, actor))


@router.get("/{media_id}", summary="The public derivative (owner)")
def derivative(media_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Faces and plates blurred, no metadata; 409 while a clip is still being processed."""
    return blob_response(service.read_media(session, settings, media_id, False, actor=actor))


@router.get("/{media_id}/original", summary="The original, to its owner only")
def original(media_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Anyone else gets 404."""
    return blob_response(service.read_media(session, settings, media_id, True, actor=actor))


@router.get("/{media_id}/review", summary="The public derivative, to a moderator of its post")
def review(media_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Media on a pending or published post; every read is audited. Anyone else gets 404."""
    blob = service.read_for_review(session, settings, media_id, actor=actor)
    return blob_response(blob, {"Cache-Control": "private, no-store"})
