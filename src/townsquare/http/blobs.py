"""A stored photo or clip as a response, whichever storage keeps it."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from townsquare.errors import NotFound
from townsquare.media.storage import Blob


def blob_response(blob: Blob, headers: Mapping[str, str] | None = None) -> Response:
    """A local file with range requests (seeking in a clip); other stores streamed in chunks."""
    path = blob.local_path()
    if path is not None:
        return FileResponse(path, media_type=blob.content_type, headers=headers)
    size = blob.store.size(blob.key)
    if size is None:
        raise NotFound("the file is gone")
    return StreamingResponse(
        iterate_in_threadpool(blob.store.chunks(blob.key)),
        media_type=blob.content_type,
        headers={**(headers or {}), "Content-Length": str(size)},
    )
