"""A resident's footage pages: the inbox of agencies' requests for their cameras' clips, the
cameras themselves, and "who saw my data".

Every page calls the footage services directly (never the HTTP API); every form carries the
session's CSRF token, checked by `kit.page_actor` as on the other resident pages. Refusals of
the services are shown in the page with the rule that was broken.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from sqlalchemy.orm import Session

from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter
from townsquare.footage import access, cameras, shares
from townsquare.footage.schemas import CameraCreated, CameraIn, ExtendIn, ShareIn
from townsquare.http.deps import DB, Config
from townsquare.settings import Settings
from townsquare.web.kit import (
    PageActor,
    Refused,
    form_zone,
    local_value,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
    utc_field,
)
from townsquare.web.places import start_of

router = page_router()


# ---- the resident's footage inbox -----------------------------------------------------------


def _inbox(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    done: str = "",
) -> Response:
    now = utcnow()
    items = shares.inbox(session, actor=actor, now=now)
    return page(
        request,
        "footage/footage_inbox.html",
        status,
        actor=actor,
        items=items,
        error=error,
        done=done,
        extend_days=settings.footage_share_extend_days,
        local_value=local_value,
        timedelta=timedelta,
    )


@router.get("/footage")
async def footage_inbox(
    request: Request, session: DB, settings: Config, actor: PageActor, done: str = ""
) -> Response:
    """Requests whose area holds one of the resident's cameras, with their clips in the window."""
    return _inbox(request, session, settings, actor, done=done[:20])


async def _inbox_action(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    act: Callable[[FormData], None],
    done: str,
    anchor: str,
) -> Response:
    form = await request.form()
    with refusal_shown(
        session,
        lambda exc: _inbox(request, session, settings, actor, status_of(exc), sentence(exc)),
    ):
        act(form)
    return see_other(f"/footage?done={done}#{anchor}")


@router.post("/footage/requests/{request_id}/share")
async def share(
    request: Request, request_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Share the clips ticked, with an optional note to the agency."""

    def act(form: FormData) -> None:
        chosen = [int(v) for v in form.getlist("clip_id") if isinstance(v, str) and v.isdigit()]
        if not chosen:
            raise InvalidParameter("clip_id", "tick at least one clip to share")
        body = ShareIn(clip_ids=chosen, note=text(form, "note").strip())
        shares.share_clips(session, request_id, body, actor=actor, now=utcnow())

    return await _inbox_action(
        request, session, settings, actor, act, "shared", f"req-{request_id}"
    )


@router.post("/footage/requests/{request_id}/decline")
async def decline(
    request: Request, request_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Say no (the agency never learns it)."""

    def act(form: FormData) -> None:
        shares.decline(session, request_id, actor=actor, now=utcnow())

    return await _inbox_action(
        request, session, settings, actor, act, "declined", f"req-{request_id}"
    )


@router.post("/footage/shares/{share_id}/revoke")
async def revoke(
    request: Request, share_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Stop sharing a clip: the agency's next read is refused."""

    def act(form: FormData) -> None:
        shares.revoke_share(session, share_id, actor=actor, now=utcnow())

    return await _inbox_action(
        request, session, settings, actor, act, "revoked", f"share-{share_id}"
    )


@router.post("/footage/shares/{share_id}/extend")
async def extend(
    request: Request, share_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Keep a share past its request's expiry (up to the setting's days)."""

    def act(form: FormData) -> None:
        until = utc_field(text(form, "until"), form_zone(form))
        body = ExtendIn.model_validate({"until": until.isoformat() if until else ""})
        shares.extend_share(session, settings, share_id, body, actor=actor, now=utcnow())

    return await _inbox_action(
        request, session, settings, actor, act, "extended", f"share-{share_id}"
    )


# ---- cameras --------------------------------------------------------------------------------

RECENT_CLIPS = 5  # per camera on its card: enough to see that pushes arrive and get blurred


def _cameras(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    made: CameraCreated | None = None,
    values: dict[str, str] | None = None,
    rotated: tuple[int, str] | None = None,
    done: str = "",
    refused: str | None = None,
) -> Response:
    mine = cameras.my_cameras(session, actor=actor)
    renewed = None
    if rotated:  # a new token is shown as a registration's is: with its camera, this once
        camera_id, token = rotated
        found = [c for c in mine if c.id == camera_id]
        renewed = CameraCreated(**found[0].model_dump(), token=token) if found else None
    recent = {c.id: cameras.my_clips(session, c.id, actor=actor, limit=RECENT_CLIPS) for c in mine}
    return page(
        request,
        "footage/cameras.html",
        status,
        actor=actor,
        cameras=mine,
        recent=recent,
        made=made,
        rotated=renewed,
        error=error,
        refused=refused,
        done=done,
        values=values or {"name": "", "lat": "", "lon": ""},
        center=start_of(request, settings.map_center),
    )


@router.get("/cameras")
async def cameras_page(
    request: Request, session: DB, settings: Config, actor: PageActor, done: str = ""
) -> Response:
    """The resident's cameras, and the form to register one at a place picked on a map."""
    return _cameras(request, session, settings, actor, done=done[:20])


def _camera_refused(
    request: Request, session: Session, settings: Settings, actor: Actor
) -> Callable[[Refused], Response]:
    """The cameras page saying why an action on a camera was refused."""
    return lambda exc: _cameras(
        request, session, settings, actor, status_of(exc), refused=sentence(exc)
    )


@router.post("/cameras")
async def register_camera(
    request: Request, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Register the camera; its push token is shown on this answer only."""
    form = await request.form()
    values = {name: text(form, name).strip()[:200] for name in ("name", "lat", "lon")}
    with refusal_shown(
        session,
        lambda exc: _cameras(
            request, session, settings, actor, status_of(exc), sentence(exc), values=values
        ),
    ):
        body = CameraIn.model_validate(values)
        made = cameras.register_camera(session, body, actor=actor, now=utcnow())
    return _cameras(request, session, settings, actor, 201, made=made)


@router.post("/cameras/{camera_id}/token")
async def rotate_token(
    request: Request, camera_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """A new push token, shown on this answer only; the old one stops at once."""
    with refusal_shown(session, _camera_refused(request, session, settings, actor)):
        token = cameras.rotate_token(session, camera_id, actor=actor)
    return _cameras(request, session, settings, actor, rotated=(camera_id, token))


@router.post("/cameras/{camera_id}/delete")
async def delete_camera(
    request: Request, camera_id: int, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Delete the camera once the box saying what goes with it is ticked."""
    if text(await request.form(), "confirm") != "yes":
        error = "Tick the box to confirm that the camera, its clips and their shares go."
        return _cameras(request, session, settings, actor, 422, refused=error)
    with refusal_shown(session, _camera_refused(request, session, settings, actor)):
        cameras.delete_camera(session, settings, camera_id, actor=actor)
    return see_other("/cameras?done=deleted")


# ---- who saw my data ------------------------------------------------------------------------


@router.get("/account/access-log")
async def access_log(request: Request, session: DB, actor: PageActor) -> Response:
    """Every read or grant of the resident's data by someone else, newest first."""
    entries = access.access_log(session, actor=actor)
    return page(request, "footage/access_log.html", actor=actor, entries=entries)
