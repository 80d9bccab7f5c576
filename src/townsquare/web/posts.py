"""A resident's post pages: the new post with live guideline prompts, and one's own posts with
the appeal, edit, close and delete.

Every form carries the session's CSRF token (checked by `kit.page_actor`); a refused post or
action is shown on the form's page with the rule it broke.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from townsquare.accounts.schemas import Actor
from townsquare.accounts.security import server_secret
from townsquare.db import utcnow
from townsquare.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
    PayloadTooLarge,
    TooManyRequests,
    TownsquareError,
)
from townsquare.http.deps import DB, Config
from townsquare.media import intake
from townsquare.media import service as media
from townsquare.media.schemas import MediaOut
from townsquare.posts import lifecycle
from townsquare.posts import service as posts
from townsquare.posts.schemas import PostEdit, PostIn, PostOwn
from townsquare.posts.service import GuidelineRefusal
from townsquare.privacy.policy import default_policy
from townsquare.settings import Settings
from townsquare.web import drafts
from townsquare.web.kit import (
    PageActor,
    Refused,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
)
from townsquare.web.places import start_of

router = page_router()
DONE = {
    "edited": "Your changes were saved. A moderator reads them before the feed shows them.",
    "closed": "The post is closed, and so is its item in the feed.",
    "deleted": "The post is deleted and its item is withdrawn from the feed and alerts.",
}
"""What the page says after an author's action (`?done=`): the action's result, plainly."""


# ---- a new post -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """What the new-post form sent besides its fields: a chosen file, a kept upload's id, and
    whether the resident ticked "remove" on the kept upload (deleted as the form is sent)."""

    upload: UploadFile | None
    kept: int | None
    remove: bool


async def _post_form(request: Request) -> tuple[drafts.PostForm, Sent]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    descriptors = [d for d in form.getlist("descriptor") if isinstance(d, str)]
    photo = form.get("photo")
    upload = photo if isinstance(photo, UploadFile) and photo.filename else None
    kept = values.get("kept_media", "")
    sent = Sent(upload, int(kept) if kept.isdigit() else None, bool(values.get("remove_photo")))
    return drafts.PostForm.from_form(values, descriptors), sent


def _new_post_page(
    request: Request, actor: Actor, form: drafts.PostForm, status: int = 200, **context: Any
) -> Response:
    prompts = context.pop("prompts", None)
    kept = context.pop("kept", None)
    return page(
        request,
        "posts/post_new.html",
        status,
        actor=actor,
        form=form,
        prompts=prompts,
        drafts=drafts,
        kept=kept,
        **context,
    )


@router.get("/posts/new")
async def new_post_page(request: Request, settings: Config, actor: PageActor) -> Response:
    """The form: category, title, description, time, place on a map, optional photo."""
    form = drafts.PostForm(lat="", lon="")
    return _new_post_page(request, actor, form, center=start_of(request, settings.map_center))


@router.post("/posts/check")
async def check_draft(request: Request, actor: PageActor) -> Response:
    """htmx, as the resident writes: every guideline's finding on the draft so far."""
    form, _ = await _post_form(request)
    found = drafts.evaluate(form, now=utcnow())
    return page(request, "posts/_guideline_checks.html", prompts=found.prompts, live=True)


def _store_photo(
    session: Session, settings: Settings, upload: UploadFile, actor: Actor, now: datetime
) -> int:
    # Blocking (typing, a clip's probe, storing): run in a worker thread.
    with intake.receive(upload.file, settings) as received:
        return media.upload_media(session, settings, received, actor=actor, now=now)


async def _photo_of(
    session: Session, settings: Settings, sent: Sent, actor: Actor, now: datetime
) -> int | None:
    """The draft's photo: a newly chosen file replaces the one kept from a refused draft."""
    chosen = sent.kept if not sent.remove else None
    kept = media.kept_upload(session, chosen, actor=actor) if chosen else None
    if sent.upload is None:
        return kept.id if kept is not None else None
    photo = await asyncio.to_thread(_store_photo, session, settings, sent.upload, actor, now)
    if kept is not None:
        media.discard_unattached(session, settings, kept.id, actor=actor)
    return photo


def _kept_view(session: Session, photo: int | None, actor: Actor) -> MediaOut | None:
    """The kept upload as the form shows it (a thumbnail and a box to remove it)."""
    row = media.kept_upload(session, photo, actor=actor) if photo else None
    return MediaOut.model_validate(row) if row is not None else None


async def _submit(
    session: Session,
    settings: Settings,
    draft: PostIn,
    photo: int | None,
    actor: Actor,
    now: datetime,
) -> PostOwn:
    """Queue the post with its photo. A photo whose post is refused for the author's account
    (unconfirmed, over the hourly limit) is deleted again; a guideline refusal keeps it for the
    corrected draft."""
    secret = server_secret(settings)
    with_photo = draft.model_copy(update={"media_ids": [photo] if photo else []})
    try:
        return posts.submit_post(session, settings, secret, with_photo, actor=actor, now=now)
    except GuidelineRefusal:
        raise
    except Exception:
        session.rollback()  # the refused post's rows go before its photo is deleted
        if photo is not None:
            media.discard_unattached(session, settings, photo, actor=actor)
        raise


@router.post("/posts/new")
async def submit_post(
    request: Request, session: DB, settings: Config, actor: PageActor
) -> Response:
    """Check, upload the photo, queue the post for moderation; refusals shown in the form.

    A draft refused by the guidelines keeps its photo: the upload's id rides in the form, shown
    as a thumbnail the resident may remove, so the photo need not be chosen again.
    """
    form, sent = await _post_form(request)
    now = utcnow()
    center = settings.map_center
    if sent.remove and sent.kept is not None:
        media.discard_unattached(session, settings, sent.kept, actor=actor)
    photo = None if sent.remove else sent.kept  # until a new file replaces it

    def refused(exc: Refused) -> Response:
        kept = _kept_view(session, photo, actor)
        if isinstance(exc, GuidelineRefusal):
            prompts = [drafts.Prompt("refusal", c.code, c.reason) for c in exc.checks]
            return _new_post_page(
                request, actor, form, 422, prompts=prompts, center=center, kept=kept
            )
        return _new_post_page(
            request, actor, form, status_of(exc), error=sentence(exc), center=center, kept=kept
        )

    errors = (GuidelineRefusal, InvalidParameter, PayloadTooLarge, Forbidden, TooManyRequests)
    with refusal_shown(session, refused, *errors):
        photo = await _photo_of(session, settings, sent, actor, now)
        found = drafts.evaluate(form, now=now)
        if found.refused or found.draft is None:
            kept = _kept_view(session, photo, actor)
            return _new_post_page(
                request, actor, form, 422, prompts=found.prompts, center=center, kept=kept
            )
        made = await _submit(session, settings, found.draft, photo, actor, now)
    return see_other(f"/posts/mine?sent={made.id}")


# ---- one's own posts ------------------------------------------------------------------------


@router.get("/posts/mine")
async def my_posts(
    request: Request, session: DB, actor: PageActor, sent: int = 0, done: str = ""
) -> Response:
    """The resident's posts with their state, the moderator's reason and the appeal."""
    return _my_posts_page(request, session, actor, sent=sent, done=DONE.get(done))


def _my_posts_page(
    request: Request,
    session: Session,
    actor: Actor,
    status: int = 200,
    *,
    sent: int = 0,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    mine = posts.list_mine(session, actor=actor)
    kinds = media.kinds_of(session, {m for p in mine for m in p.media_ids})
    retention = default_policy().retention
    return page(
        request,
        "posts/my_posts.html",
        status,
        actor=actor,
        posts=mine,
        sent=sent,
        error=error,
        done=done,
        media_kinds=kinds,
        drafts=drafts,
        open_days=retention.post_open_days,
        point_days=retention.closed_post_point_days,
    )


def _refused_on_mine(
    request: Request, session: Session, actor: Actor
) -> Callable[[Refused], Response]:
    """My posts, saying why an author's action was refused."""

    def show(exc: Refused) -> Response:
        if isinstance(exc, GuidelineRefusal):
            error = " ".join(c.reason for c in exc.checks)
        else:
            error = sentence(exc)
        return _my_posts_page(request, session, actor, status_of(exc), error=error)

    return show


async def _own_post_action(
    request: Request,
    session: Session,
    actor: Actor,
    act: Callable[[FormData], None],
    done: str,
) -> Response:
    """Run one author action from a /posts/mine form; refusals are shown on that page."""
    form = await request.form()
    with refusal_shown(session, _refused_on_mine(request, session, actor), TownsquareError):
        act(form)
    return see_other(f"/posts/mine?done={done}")


@router.post("/posts/{post_id}/edit")
async def edit_post(request: Request, post_id: int, session: DB, actor: PageActor) -> Response:
    """Change the category, title or text; a published post goes back to the moderators."""

    def act(form: FormData) -> None:
        change = PostEdit(
            category=text(form, "category") or None,
            title=text(form, "title")[:200] or None,
            description=text(form, "description")[:5000] or None,
        )
        lifecycle.edit_post(session, post_id, change, actor=actor, now=utcnow())

    return await _own_post_action(request, session, actor, act, "edited")


@router.post("/posts/{post_id}/close")
async def close_post(request: Request, post_id: int, session: DB, actor: PageActor) -> Response:
    """Close the post now; its feed item closes too."""

    def act(form: FormData) -> None:
        lifecycle.close_post(session, post_id, actor=actor, now=utcnow())

    return await _own_post_action(request, session, actor, act, "closed")


@router.post("/posts/{post_id}/delete")
async def delete_post(request: Request, post_id: int, session: DB, actor: PageActor) -> Response:
    """Delete the post once the box is ticked; its feed item is retracted everywhere."""

    def act(form: FormData) -> None:
        if text(form, "confirm") != "yes":
            raise Conflict("tick the box to confirm the deletion")
        lifecycle.delete_post(session, post_id, actor=actor, now=utcnow())

    return await _own_post_action(request, session, actor, act, "deleted")


@router.post("/posts/{post_id}/appeal")
async def appeal(request: Request, post_id: int, session: DB, actor: PageActor) -> Response:
    """Ask once for another review of a rejected or removed post."""
    reason = text(await request.form(), "reason").strip()
    if not 3 <= len(reason) <= 2000:
        error = "Say in a few words why the post meets the guidelines."
        return _my_posts_page(request, session, actor, 409, error=error)
    with refusal_shown(session, _refused_on_mine(request, session, actor), TownsquareError):
        posts.appeal_post(session, post_id, reason, actor=actor, now=utcnow())
    return see_other("/posts/mine")
