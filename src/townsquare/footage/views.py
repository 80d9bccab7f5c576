"""Footage routes: cameras and their push API, requests, shares, break-glass, transparency."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, PayloadTooLarge
from townsquare.footage import access, cameras, service, shares, transparency
from townsquare.footage.schemas import (
    AccessEntry,
    AgencyPage,
    BreakGlassIn,
    BreakGlassOut,
    CameraCreated,
    CameraIn,
    CameraOut,
    CameraPoint,
    ClipOut,
    ExtendIn,
    FileRequest,
    InboxItem,
    MyShare,
    RequestPublic,
    SharedClip,
    ShareIn,
    TransparencyReport,
)
from townsquare.http.blobs import blob_response
from townsquare.http.deps import DB, Config, CurrentActor, current_actor
from townsquare.media import intake
from townsquare.settings import Settings

cameras_router = APIRouter(prefix="/api/v1/cameras", tags=["footage"])
router = APIRouter(prefix="/api/v1/footage", tags=["footage"])
public_router = APIRouter(prefix="/api/v1", tags=["footage"])
PRIVATE = {"Cache-Control": "private, no-store"}
Format = Annotated[Literal["json", "csv"], Query(alias="format")]
_TIME = TypeAdapter(AwareDatetime)


@cameras_router.post("", status_code=201, summary="Register a camera (its point stays private)")
def register(body: CameraIn, actor: CurrentActor, session: DB) -> CameraCreated:
    """Returns the camera's push token once; only its hash is kept."""
    return cameras.register_camera(session, body, actor=actor, now=utcnow())


@cameras_router.get("", summary="My cameras, with their exact points")
def my_cameras(actor: CurrentActor, session: DB) -> list[CameraOut]:
    """The owner's own view."""
    return cameras.my_cameras(session, actor=actor)


@cameras_router.delete("/{camera_id}", status_code=204, summary="Delete a camera")
def delete_camera(camera_id: int, actor: CurrentActor, session: DB, settings: Config) -> None:
    """Its clips and their video go too; every share of them ends."""
    cameras.delete_camera(session, settings, camera_id, actor=actor)


@cameras_router.post("/{camera_id}/token", summary="A new push token (the old one stops)")
def rotate_token(camera_id: int, actor: CurrentActor, session: DB) -> dict[str, str]:
    """Shown once."""
    return {"token": cameras.rotate_token(session, camera_id, actor=actor)}


@cameras_router.get("/{camera_id}/clips", summary="A camera's clips (owner)")
def my_clips(camera_id: int, actor: CurrentActor, session: DB) -> list[ClipOut]:
    """Newest capture first."""
    return cameras.my_clips(session, camera_id, actor=actor)


def _time(name: str, value: object) -> datetime:
    """An ISO 8601 time with offset, or Unix seconds (what Frigate and most NVRs send)."""
    text = str(value).strip() if isinstance(value, str) else ""
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        return _TIME.validate_python(text)
    except (ValidationError, ValueError, OverflowError) as exc:
        raise InvalidParameter(name, "an ISO 8601 time with its offset, or Unix seconds") from exc


async def _raw_body(request: Request, settings: Settings) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=intake.CHUNK)  # noqa: SIM115 - returned
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.media_max_video_bytes:
            spool.close()
            raise PayloadTooLarge(f"clips up to {settings.media_max_video_bytes} bytes")
        spool.write(chunk)
    spool.seek(0)
    return spool


@cameras_router.post("/{camera_id}/clips", status_code=201, summary="Push a clip")
async def push_clip(camera_id: int, request: Request, session: DB, settings: Config) -> ClipOut:
    """`Authorization: Bearer <camera token>` (or the owner's session or API token).

    The body is either multipart (`file`, `start`, `end`) or the raw MP4/MOV with `start` and
    `end` in the query; times are ISO 8601 with offset or Unix seconds.
    """
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" else None
    actor: Actor | None = cameras.pusher(session, camera_id, token)
    if actor is None:
        actor = await current_actor(request, session, settings)
    fields: dict[str, object] = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        fields |= {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidParameter("file", "send the clip as the multipart field `file`")
        source: IO[bytes] = upload.file
    else:
        source = await _raw_body(request, settings)
    owner = actor
    try:  # the spooled body is closed whatever is refused, its times included
        starts_at, ends_at = _time("start", fields.get("start")), _time("end", fields.get("end"))

        def run() -> ClipOut:
            with intake.receive(source, settings) as received:  # type: ignore[arg-type]
                return cameras.add_clip(
                    session,
                    settings,
                    camera_id,
                    received,
                    starts_at,
                    ends_at,
                    actor=owner,
                    now=utcnow(),
                )

        return await run_in_threadpool(run)
    finally:
        source.close()


@router.post("/requests", status_code=201, summary="File a footage request (verified agency)")
def file_request(
    body: FileRequest, actor: CurrentActor, session: DB, settings: Config
) -> RequestPublic:
    """Public at once; residents with a camera in the area are told, the agency gets counts."""
    return service.file_request(session, settings, body, actor=actor, now=utcnow())


@router.get("/requests/{request_id}", summary="A footage request, as anyone sees it")
def get_request(request_id: int, session: DB) -> RequestPublic:
    """Counts only: never who was told, who declined or who shared."""
    return service.get_request(session, request_id, now=utcnow())


@router.get("/requests/{request_id}/shares", summary="Clips shared with a request (its agency)")
def agency_shares(request_id: int, actor: CurrentActor, session: DB) -> list[SharedClip]:
    """Live shares only; nothing says whose they are."""
    return shares.agency_shares(session, request_id, actor=actor, now=utcnow())


@router.post("/requests/{request_id}/shares", status_code=201, summary="Share clips (resident)")
def share_clips(request_id: int, body: ShareIn, actor: CurrentActor, session: DB) -> list[MyShare]:
    """Clips of the caller's cameras in the area whose capture overlaps the window."""
    return shares.share_clips(session, request_id, body, actor=actor, now=utcnow())


@router.post("/requests/{request_id}/decline", status_code=204, summary="Decline (private)")
def decline(request_id: int, actor: CurrentActor, session: DB) -> None:
    """For the resident's own inbox; the agency never learns it."""
    shares.decline(session, request_id, actor=actor, now=utcnow())


@router.get("/inbox", summary="Requests whose area holds one of my cameras")
def inbox(actor: CurrentActor, session: DB) -> list[InboxItem]:
    """With the caller's clips in each window and their shares."""
    return shares.inbox(session, actor=actor, now=utcnow())


@router.post("/shares/{share_id}/revoke", summary="Stop sharing a clip")
def revoke(share_id: int, actor: CurrentActor, session: DB) -> MyShare:
    """The agency's next read is a 404."""
    return shares.revoke_share(session, share_id, actor=actor, now=utcnow())


@router.post("/shares/{share_id}/extend", summary="Keep a share past its request's expiry")
def extend(
    share_id: int, body: ExtendIn, actor: CurrentActor, session: DB, settings: Config
) -> MyShare:
    """Up to TOWNSQUARE_FOOTAGE_SHARE_EXTEND_DAYS past the request's expiry."""
    return shares.extend_share(session, settings, share_id, body, actor=actor, now=utcnow())


@router.get("/shares/{share_id}/video", summary="A shared clip (the agency, or its owner)")
def shared_video(share_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Metadata stripped, faces and plates blurred; each agency read is audited."""
    blob = shares.read_shared(session, settings, share_id, actor=actor, now=utcnow())
    return blob_response(blob, PRIVATE)


@router.post("/break-glass", status_code=201, summary="Operator emergency access, with a reason")
def break_glass(
    body: BreakGlassIn, actor: CurrentActor, session: DB, settings: Config
) -> BreakGlassOut:
    """Time-limited; shown to the owner and counted in the transparency report."""
    return access.open_break_glass(session, settings, body, actor=actor, now=utcnow())


@router.get("/break-glass/clips/{clip_id}/video", summary="A clip under break-glass")
def break_glass_clip(clip_id: int, actor: CurrentActor, session: DB, settings: Config) -> Response:
    """Only with a live grant for this clip; audited."""
    blob = access.read_clip(session, settings, clip_id, actor=actor, now=utcnow())
    return blob_response(blob, PRIVATE)


@router.get("/break-glass/cameras/{camera_id}", summary="A camera's point under break-glass")
def break_glass_camera(camera_id: int, actor: CurrentActor, session: DB) -> CameraPoint:
    """Only with a live grant for this camera; audited."""
    return access.read_camera(session, camera_id, actor=actor, now=utcnow())


@public_router.get("/me/access-log", summary="Who saw my data")
def access_log(actor: CurrentActor, session: DB) -> list[AccessEntry]:
    """Every audited read or grant of my data by someone else, newest first."""
    return access.access_log(session, actor=actor)


@public_router.get("/agencies/{slug}/footage-requests", summary="An agency's footage requests")
def agency_page(slug: str, session: DB) -> AgencyPage:
    """Whether it is verified, and every request it filed, with counts."""
    return service.agency_page(session, slug, now=utcnow())


def _report(found: TransparencyReport, fmt: str) -> Response | TransparencyReport:
    if fmt != "csv":
        return found
    name = f"transparency-{found.agency or 'all'}.csv"
    return Response(
        transparency.to_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@public_router.get("/transparency", summary="Footage transparency report", response_model=None)
def report(session: DB, fmt: Format = "json") -> Response | TransparencyReport:
    """Every agency; `?format=csv` for CSV."""
    return _report(transparency.report(session, None, now=utcnow()), fmt)


@public_router.get("/transparency.csv", summary="Footage transparency report (CSV)")
def report_csv(session: DB) -> Response:
    """The same as `?format=csv`."""
    return Response(
        transparency.to_csv(transparency.report(session, None, now=utcnow())),
        media_type="text/csv; charset=utf-8",
    )


@public_router.get(
    "/agencies/{slug}/transparency", summary="One agency's transparency report", response_model=None
)
def agency_report(slug: str, session: DB, fmt: Format = "json") -> Response | TransparencyReport:
    """`?format=csv` for CSV."""
    return _report(transparency.report(session, slug, now=utcnow()), fmt)


@public_router.get("/agencies/{slug}/transparency.csv", summary="One agency's report (CSV)")
def agency_report_csv(slug: str, session: DB) -> Response:
    """The same as `?format=csv`."""
    return Response(
        transparency.to_csv(transparency.report(session, slug, now=utcnow())),
        media_type="text/csv; charset=utf-8",
    )
