"""Cameras and their clips: registration, push tokens, clips through the media pipeline.

A camera's software pushes clips with the camera's own token (shown once, kept as SHA-256);
the owner may upload with their session or personal API token as well. Either way the clip
goes through `media.service.upload_media` (metadata stripped, faces and plates blurred in the
derivative) and keeps its capture window beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import security
from townsquare.accounts.schemas import Actor
from townsquare.db import columns
from townsquare.errors import Forbidden, InvalidParameter, NotFound, Unauthorized
from townsquare.footage.models import Camera, Clip
from townsquare.footage.schemas import CameraCreated, CameraIn, CameraOut, ClipOut
from townsquare.media import service as media
from townsquare.media.intake import Received
from townsquare.media.models import Media
from townsquare.media.retention import erase_unreferenced
from townsquare.posts.models import PostMedia
from townsquare.settings import Settings

TOKEN_PREFIX = "tsc_"  # noqa: S105 - not a secret: tells a camera token from a personal API token at a glance
CLOCK_SKEW = timedelta(minutes=5)
LONGEST_CLIP = timedelta(hours=1)


def _owned(session: Session, camera_id: int, owner_id: int) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None or camera.owner_id != owner_id:
        raise NotFound(f"camera {camera_id} not found")
    return camera


def _out(session: Session, camera: Camera) -> CameraOut:
    clips = session.scalar(select(func.count()).where(Clip.camera_id == camera.id)) or 0
    return CameraOut.model_validate(columns(camera) | {"clips": clips})


def register_camera(
    session: Session, body: CameraIn, *, actor: Actor, now: datetime
) -> CameraCreated:
    """Register a camera at a private point; its push token is returned this once."""
    if not actor.email_verified:
        raise Forbidden("confirm your e-mail address before registering a camera")
    token = TOKEN_PREFIX + security.new_secret()[0]
    camera = Camera(
        owner_id=actor.account_id,
        name=body.name,
        lat=body.lat,
        lon=body.lon,
        token_hash=security.digest(token),
        created_at=now,
    )
    audit.record_row(
        session,
        camera,
        actor_id=actor.account_id,
        action="camera.register",
        subject_id=actor.account_id,
    )
    session.commit()
    return CameraCreated(**_out(session, camera).model_dump(), token=token)


def my_cameras(session: Session, *, actor: Actor) -> list[CameraOut]:
    """The caller's cameras with their exact points."""
    rows = session.scalars(
        select(Camera).where(Camera.owner_id == actor.account_id).order_by(Camera.id)
    )
    return [_out(session, c) for c in rows]


def rotate_token(session: Session, camera_id: int, *, actor: Actor) -> str:
    """A new push token for the camera; the old one stops working at once."""
    camera = _owned(session, camera_id, actor.account_id)
    token = TOKEN_PREFIX + security.new_secret()[0]
    camera.token_hash = security.digest(token)
    audit.record_row(
        session,
        camera,
        actor_id=actor.account_id,
        action="camera.rotate_token",
        subject_id=actor.account_id,
    )
    session.commit()
    return token


def delete_camera(session: Session, settings: Settings, camera_id: int, *, actor: Actor) -> None:
    """Delete a camera, its clips and their video (original and blurred copy).

    A clip's video that a post also holds stays with the post. Blobs are erased after the
    commit unless another upload holds the same bytes.
    """
    camera = _owned(session, camera_id, actor.account_id)
    media_ids = list(session.scalars(select(Clip.media_id).where(Clip.camera_id == camera.id)))
    session.execute(delete(Clip).where(Clip.camera_id == camera.id))
    videos = session.scalars(
        select(Media).where(
            Media.id.in_(media_ids), ~exists().where(PostMedia.media_id == Media.id)
        )
    ).all()
    keys = {key for row in videos for key in (row.original_key, row.public_key) if key}
    for row in videos:
        session.delete(row)
    session.delete(camera)
    audit.record(
        session,
        actor_id=actor.account_id,
        action="camera.delete",
        object_type="camera",
        object_id=camera_id,
        subject_id=actor.account_id,
        detail={"clips": len(media_ids), "videos_deleted": len(videos)},
    )
    session.commit()
    erase_unreferenced(session, media.store_of(settings), keys)


def pusher(session: Session, camera_id: int, bearer: str | None) -> Actor | None:
    """The camera's owner when `bearer` is this camera's push token; None when it is no camera
    token at all (the caller may be the owner signed in); Unauthorized when it is a wrong one."""
    if not bearer or not bearer.startswith(TOKEN_PREFIX):
        return None
    camera = session.get(Camera, camera_id)
    if camera is None or not security.same(security.digest(bearer), camera.token_hash):
        raise Unauthorized("not this camera's push token")
    return Actor(
        account_id=camera.owner_id,
        roles=frozenset({"resident"}),
        session_id=None,
        csrf_token=None,
        email_verified=True,
        via_token=True,
    )


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A capture window that ends after it starts, is not in the future and is at most an hour."""
    if ends_at <= starts_at:
        raise InvalidParameter("end", "the capture must end after it starts")
    if ends_at > now + CLOCK_SKEW:
        raise InvalidParameter("end", "the capture cannot end in the future")
    if ends_at - starts_at > LONGEST_CLIP:
        raise InvalidParameter("end", "a clip covers at most one hour")


def add_clip(
    session: Session,
    settings: Settings,
    camera_id: int,
    upload: Received,
    starts_at: datetime,
    ends_at: datetime,
    *,
    actor: Actor,
    now: datetime,
) -> ClipOut:
    """Run an upload through the media pipeline and file it under the camera's capture window."""
    camera = _owned(session, camera_id, actor.account_id)
    check_window(starts_at, ends_at, now)
    if not upload.is_clip:
        raise InvalidParameter("file", "send an MP4 or MOV clip")
    media_id = media.upload_media(session, settings, upload, actor=actor, now=now)
    clip = Clip(
        camera_id=camera.id, media_id=media_id, starts_at=starts_at, ends_at=ends_at, created_at=now
    )
    audit.record_row(
        session,
        clip,
        actor_id=actor.account_id,
        action="camera.clip",
        subject_id=actor.account_id,
        detail={"camera": camera.id, "media": media_id},
    )
    session.commit()
    return clip_out(session, clip)


def clip_out(session: Session, clip: Clip) -> ClipOut:
    """A clip as its owner sees it."""
    media = session.get_one(Media, clip.media_id)
    processing = {"duration_s": media.duration_s, "state": media.state, "error": media.error}
    return ClipOut.model_validate(columns(clip) | processing)


def my_clips(
    session: Session, camera_id: int, *, actor: Actor, limit: int | None = None
) -> list[ClipOut]:
    """A camera's clips, newest capture first (the newest `limit`), to its owner."""
    camera = _owned(session, camera_id, actor.account_id)
    rows = session.scalars(
        select(Clip)
        .where(Clip.camera_id == camera.id)
        .order_by(Clip.starts_at.desc(), Clip.id.desc())
        .limit(limit)
    )
    return [clip_out(session, c) for c in rows]
