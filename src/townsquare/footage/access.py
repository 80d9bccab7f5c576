"""Break-glass and "who saw my data".

No operator reads a resident's clip or camera point in the ordinary course. Break-glass is the
exception: an operator states a reason and gets one clip or camera for a limited time; the
grant and every read under it are audit entries about the owner, who sees them in their access
log, and the grants are counted in the public transparency report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts.models import Account
from townsquare.accounts.schemas import Actor
from townsquare.db import columns
from townsquare.errors import Forbidden, NotFound
from townsquare.footage.models import BreakGlass, Camera, Clip
from townsquare.footage.schemas import AccessEntry, BreakGlassIn, BreakGlassOut, CameraPoint
from townsquare.media.models import Media
from townsquare.media.service import derivative_of
from townsquare.media.storage import Blob
from townsquare.settings import Settings

ROLE_LABELS = {
    "operator": "operator",
    "moderator": "moderator",
    "agency_admin": "agency admin",
    "agency_officer": "agency officer",
    "resident": "resident",
}
"""How a role is named in the access log, in the order a reader with several is named by."""

ACTING_ROLE = {
    "post.": "moderator",
    "media.review": "moderator",
    "desk.": "moderator",
    "footage.break_glass": "operator",
    "account.": "operator",
}
"""The role an action is taken in (by prefix), named first when the reader holds it."""


def _owner(session: Session, target: str, target_id: int) -> int | None:
    if target == "camera":
        return session.scalar(select(Camera.owner_id).where(Camera.id == target_id))
    return session.scalar(
        select(Camera.owner_id).join(Clip, Clip.camera_id == Camera.id).where(Clip.id == target_id)
    )


def open_break_glass(
    session: Session, settings: Settings, body: BreakGlassIn, *, actor: Actor, now: datetime
) -> BreakGlassOut:
    """Grant the calling operator one clip or camera for a while, the reason on record."""
    if not actor.has("operator"):
        raise Forbidden("operators only (signed in with two-factor)")
    owner = _owner(session, body.target, body.target_id)
    if owner is None:
        raise NotFound(f"{body.target} {body.target_id} not found")
    grant = BreakGlass(
        operator_id=actor.account_id,
        owner_id=owner,
        target=body.target,
        target_id=body.target_id,
        reason=body.reason.strip(),
        opened_at=now,
        expires_at=now + timedelta(minutes=settings.footage_break_glass_minutes),
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor_id=actor.account_id,
        action="footage.break_glass",
        object_type=body.target,
        object_id=body.target_id,
        subject_id=owner,
        detail={"grant": grant.id, "reason": grant.reason, "until": grant.expires_at.isoformat()},
    )
    session.commit()
    return BreakGlassOut.model_validate(columns(grant))


def _granted(session: Session, actor: Actor, target: str, target_id: int, now: datetime) -> int:
    """The owner of a target the operator holds a live grant for; NotFound otherwise."""
    grant = None
    if actor.has("operator"):
        grant = session.scalar(
            select(BreakGlass)
            .where(
                BreakGlass.operator_id == actor.account_id,
                BreakGlass.target == target,
                BreakGlass.target_id == target_id,
                BreakGlass.expires_at > now,
            )
            .order_by(BreakGlass.id.desc())
            .limit(1)
        )
    owner = _owner(session, target, target_id) if grant is not None else None
    if grant is None or owner is None:
        raise NotFound(f"{target} {target_id} not found")
    audit.record(
        session,
        actor_id=actor.account_id,
        action="footage.break_glass_read",
        object_type=target,
        object_id=target_id,
        subject_id=owner,
        detail={"grant": grant.id, "reason": grant.reason},
    )
    session.commit()
    return owner


def read_clip(
    session: Session, settings: Settings, clip_id: int, *, actor: Actor, now: datetime
) -> Blob:
    """A clip's video to an operator under a live break-glass grant (audited), else NotFound."""
    _granted(session, actor, "clip", clip_id, now)
    return derivative_of(settings, session.get_one(Media, session.get_one(Clip, clip_id).media_id))


def read_camera(session: Session, camera_id: int, *, actor: Actor, now: datetime) -> CameraPoint:
    """A camera's exact point to an operator under a live break-glass grant (audited)."""
    _granted(session, actor, "camera", camera_id, now)
    camera = session.get_one(Camera, camera_id)
    return CameraPoint(id=camera.id, lat=camera.lat, lon=camera.lon)


def _role(entry: audit.AuditEntry, held: list[str]) -> str:
    """The reader's role when it read, from the roles recorded with the entry."""
    acting = next((r for p, r in ACTING_ROLE.items() if entry.action.startswith(p)), None)
    if acting in held:
        return ROLE_LABELS[acting]
    named = [ROLE_LABELS[r] for r in ROLE_LABELS if r in held]
    return named[0] if named else "an account with no role"


def _by(session: Session, entry: audit.AuditEntry) -> str:
    if entry.action == "footage.read":
        return f"agency {entry.detail.get('agency', '')}".strip()
    if entry.actor_id is None:
        return "the system"
    held = entry.actor_roles
    if held is None:  # recorded before roles were: the account's roles now, if it still exists
        account = session.get(Account, entry.actor_id)
        held = list(account.roles) if account is not None else []
    role = _role(entry, held)
    return f"{role} (break-glass)" if entry.action.startswith("footage.break_glass") else role


def access_log(session: Session, *, actor: Actor) -> list[AccessEntry]:
    """Every audited action on the caller's data by someone other than the caller, newest first.

    Each names the reader by the role it held when it read (moderator, agency officer,
    operator), recorded with the audit entry.
    """
    entries = [
        e for e in audit.entries_about(session, actor.account_id) if e.actor_id != actor.account_id
    ]
    return [
        AccessEntry(
            at=e.at,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            by=_by(session, e),
            detail=e.detail,
        )
        for e in reversed(entries)
    ]
