"""Residents answer requests clip by clip; agencies read only what was shared with them.

What an agency receives is the clip's public derivative: metadata, GPS, audio and extra tracks
gone, faces and plates blurred (media.clips). It is the very file the resident previews at the
same address. A share ends when revoked or at its expiry (the request's, unless the resident
extended it); the agency's next read after that is a 404, as for a share that never was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.agencies.models import Agency
from townsquare.errors import Conflict, InvalidParameter, NotFound
from townsquare.footage.cameras import clip_out
from townsquare.footage.models import Camera, Clip, FootageRequest, Notice, Share
from townsquare.footage.schemas import ExtendIn, InboxItem, MyShare, SharedClip, ShareIn
from townsquare.footage.service import public_of
from townsquare.media.models import Media
from townsquare.media.service import derivative_of
from townsquare.media.storage import Blob
from townsquare.settings import Settings

AGENCY_ROLES = ("agency_officer", "agency_admin")


def _mine(share: Share, now: datetime) -> MyShare:
    return MyShare(
        id=share.id,
        request_id=share.request_id,
        clip_id=share.clip_id,
        note=share.note,
        shared_at=share.shared_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        active=share.revoked_at is None and share.expires_at > now,
    )


def _owner_of_clip(session: Session, clip_id: int) -> int:
    return (
        session.scalar(
            select(Camera.owner_id)
            .join(Clip, Clip.camera_id == Camera.id)
            .where(Clip.id == clip_id)
        )
        or 0
    )


def _window_clips(session: Session, notice: Notice, row: FootageRequest) -> list[Clip]:
    return list(
        session.scalars(
            select(Clip)
            .where(
                Clip.camera_id.in_(notice.camera_ids),
                Clip.starts_at < row.window_end,
                Clip.ends_at > row.window_start,
            )
            .order_by(Clip.starts_at)
        )
    )


def inbox(session: Session, *, actor: Actor, now: datetime) -> list[InboxItem]:
    """The caller's requests, newest first, with their clips in the window and their shares."""
    notices = session.scalars(
        select(Notice).where(Notice.account_id == actor.account_id).order_by(Notice.id.desc())
    )
    items = []
    for notice in notices:
        row = session.get_one(FootageRequest, notice.request_id)
        clips = _window_clips(session, notice, row)
        shares = session.scalars(
            select(Share)
            .join(Clip, Clip.id == Share.clip_id)
            .where(Share.request_id == row.id, Clip.camera_id.in_(notice.camera_ids))
            .order_by(Share.id)
        )
        items.append(
            InboxItem(
                request=public_of(row, session.get_one(Agency, row.agency_id), now),
                camera_ids=notice.camera_ids,
                notified_at=notice.notified_at,
                declined_at=notice.declined_at,
                clips=[clip_out(session, c) for c in clips],
                shares=[_mine(s, now) for s in shares],
            )
        )
    return items


def _notice(session: Session, request_id: int, actor: Actor) -> tuple[Notice, FootageRequest]:
    notice = session.scalar(
        select(Notice).where(Notice.request_id == request_id, Notice.account_id == actor.account_id)
    )
    if notice is None:
        raise NotFound(f"footage request {request_id} is not in your inbox")
    return notice, session.get_one(FootageRequest, request_id)


def decline(session: Session, request_id: int, *, actor: Actor, now: datetime) -> None:
    """Say no to a request (for the resident's own inbox; the agency never learns it)."""
    notice, _ = _notice(session, request_id, actor)
    notice.declined_at = now
    session.commit()


def share_clips(
    session: Session, request_id: int, body: ShareIn, *, actor: Actor, now: datetime
) -> list[MyShare]:
    """Share chosen clips of the caller's cameras in the area that overlap the request window."""
    notice, row = _notice(session, request_id, actor)
    if row.expires_at <= now:
        raise Conflict("this request has expired")
    eligible = {c.id: c for c in _window_clips(session, notice, row)}
    made: list[Share] = []
    for clip_id in dict.fromkeys(body.clip_ids):
        if clip_id not in eligible or _owner_of_clip(session, clip_id) != actor.account_id:
            raise InvalidParameter(
                "clip_ids", f"clip {clip_id} is not yours from a camera in the area in the window"
            )
        if session.get_one(Media, eligible[clip_id].media_id).state == "failed":
            raise InvalidParameter("clip_ids", f"clip {clip_id} could not be processed")
        share = session.scalar(
            select(Share).where(Share.request_id == row.id, Share.clip_id == clip_id)
        )
        if share is not None and share.revoked_at is None:
            continue
        if share is None:
            share = Share(request_id=row.id, clip_id=clip_id)
            session.add(share)
        share.note, share.shared_at, share.expires_at = body.note, now, row.expires_at
        share.revoked_at = None
        made.append(share)
    session.flush()
    for share in made:
        audit.record(
            session,
            actor_id=actor.account_id,
            action="footage.share",
            object_type="clip",
            object_id=share.clip_id,
            subject_id=actor.account_id,
            detail={"request": row.id, "share": share.id},
        )
    row.clips_shared = FootageRequest.clips_shared + len(made)
    notice.declined_at = None
    session.commit()
    return [_mine(s, now) for s in made]


def _own_share(session: Session, share_id: int, actor: Actor) -> Share:
    share = session.get(Share, share_id)
    if share is None or _owner_of_clip(session, share.clip_id) != actor.account_id:
        raise NotFound(f"share {share_id} not found")
    return share


def revoke_share(session: Session, share_id: int, *, actor: Actor, now: datetime) -> MyShare:
    """Stop sharing a clip; the agency's next read is refused."""
    share = _own_share(session, share_id, actor)
    if share.revoked_at is None:
        share.revoked_at = now
        row = session.get_one(FootageRequest, share.request_id)
        row.clips_revoked = FootageRequest.clips_revoked + 1
        audit.record(
            session,
            actor_id=actor.account_id,
            action="footage.revoke",
            object_type="clip",
            object_id=share.clip_id,
            subject_id=actor.account_id,
            detail={"request": share.request_id, "share": share.id},
        )
        session.commit()
    return _mine(share, now)


def extend_share(
    session: Session,
    settings: Settings,
    share_id: int,
    body: ExtendIn,
    *,
    actor: Actor,
    now: datetime,
) -> MyShare:
    """Keep a share past its request's expiry, up to the setting's days beyond it."""
    share = _own_share(session, share_id, actor)
    if share.revoked_at is not None:
        raise Conflict("this share was revoked; share the clip again instead")
    row = session.get_one(FootageRequest, share.request_id)
    limit = row.expires_at + timedelta(days=settings.footage_share_extend_days)
    if body.until <= now or body.until > limit:
        raise InvalidParameter(
            "until",
            f"a share may last until at most {settings.footage_share_extend_days} days after "
            f"its request expires ({limit.isoformat()})",
        )
    share.expires_at = body.until
    audit.record(
        session,
        actor_id=actor.account_id,
        action="footage.extend",
        object_type="clip",
        object_id=share.clip_id,
        subject_id=actor.account_id,
        detail={"request": share.request_id, "share": share.id, "until": body.until.isoformat()},
    )
    session.commit()
    return _mine(share, now)


def _agency_id(session: Session, actor: Actor) -> int | None:
    if not any(actor.has(role) for role in AGENCY_ROLES):
        return None
    return session.scalar(select(Account.agency_id).where(Account.id == actor.account_id))


def agency_shares(
    session: Session, request_id: int, *, actor: Actor, now: datetime
) -> list[SharedClip]:
    """The live shares of one of the caller's agency's requests; anyone else gets NotFound."""
    row = session.get(FootageRequest, request_id)
    if row is None or row.agency_id != _agency_id(session, actor):
        raise NotFound(f"footage request {request_id} not found")
    found = session.execute(
        select(Share, Clip, Media.duration_s)
        .join(Clip, Clip.id == Share.clip_id)
        .join(Media, Media.id == Clip.media_id)
        .where(Share.request_id == row.id, Share.revoked_at.is_(None), Share.expires_at > now)
        .order_by(Share.id)
    )
    return [
        SharedClip(
            share_id=share.id,
            request_id=row.id,
            starts_at=clip.starts_at,
            ends_at=clip.ends_at,
            duration_s=duration,
            note=share.note,
            shared_at=share.shared_at,
            expires_at=share.expires_at,
            video=f"/api/v1/footage/shares/{share.id}/video",
        )
        for share, clip, duration in found
    ]


def read_shared(
    session: Session, settings: Settings, share_id: int, *, actor: Actor, now: datetime
) -> Blob:
    """The shared video, to the owner (a preview) or to the requesting agency (audited)."""
    share = session.get(Share, share_id)
    owner = _owner_of_clip(session, share.clip_id) if share is not None else 0
    if share is None or not owner:
        raise NotFound(f"share {share_id} not found")
    row = session.get_one(FootageRequest, share.request_id)
    if owner != actor.account_id:
        live = share.revoked_at is None and share.expires_at > now
        if not live or row.agency_id != _agency_id(session, actor):
            raise NotFound(f"share {share_id} not found")
    clip = session.get_one(Clip, share.clip_id)
    video = derivative_of(settings, session.get_one(Media, clip.media_id))  # 409 until made
    if owner != actor.account_id:  # nothing read before this point, so nothing audited
        audit.record(
            session,
            actor_id=actor.account_id,
            action="footage.read",
            object_type="clip",
            object_id=share.clip_id,
            subject_id=owner,
            detail={
                "agency": session.get_one(Agency, row.agency_id).slug,
                "request": row.id,
                "share": share.id,
            },
        )
        session.commit()
    return video
