"""The moderators' page: the queue with the checks that flagged each post, recent decisions,
and the four actions (each one audited by `moderation.service`).

Posts are shown scrubbed, at their public point. The exact point and the text as written
are shown for one post after a stated reason (the author reads it in their access log), on
the page answering that form only: never in a URL, never on a later page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import TownsquareError
from townsquare.http.deps import DB, Config
from townsquare.media import service as media
from townsquare.moderation import service
from townsquare.posts.schemas import PostRevealed
from townsquare.web.accounts import (
    PageDeps,
    form_actor,
    page,
    page_actor,
    see_other,
    text,
    to_sign_in,
)

router = APIRouter(
    include_in_schema=False, default_response_class=HTMLResponse, dependencies=PageDeps
)
ACTIONS = ("approve", "reject", "remove", "restore")


def _page(
    request: Request,
    session: DB,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    revealed: PostRevealed | None = None,
) -> Response:
    if not actor.has("moderator"):
        return page(request, "moderation/moderation_only.html", 403, actor=actor)
    pending = service.queue(session, actor=actor)
    recent = service.decided(session, actor=actor)
    # Photos and clips are shown as the public will see them (blurred, stripped), read through
    # the audited /api/v1/media/{id}/review.
    ids = {m for p in pending for m in p.media_ids}
    kinds = media.kinds_of(session, ids)
    return page(
        request,
        "moderation/moderation.html",
        status,
        actor=actor,
        pending=pending,
        recent=recent,
        media_kinds=kinds,
        error=error,
        revealed=revealed,
    )


@router.get("/moderation")
async def moderation_page(request: Request, session: DB, settings: Config) -> Response:
    """Pending posts, oldest first; then the latest decisions, to remove or restore."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/moderation")
    return _page(request, session, actor)


# Declared before the action route, which would otherwise take "exact-point" as an action.
@router.post("/moderation/posts/{post_id}/exact-point")
async def reveal(request: Request, post_id: int, session: DB, settings: Config) -> Response:
    """Show one post's exact point and text as written, for a reason the author will read."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    reason = text(await request.form(), "reason")[:2000]
    try:
        shown = service.reveal_post(session, post_id, reason, actor=actor)
    except TownsquareError as exc:
        session.rollback()
        message = f"{exc.detail[:1].upper()}{exc.detail[1:]}."
        return _page(request, session, actor, exc.status, message)
    return _page(request, session, actor, revealed=shown)


@router.post("/moderation/posts/{post_id}/{action}")
async def moderate(
    request: Request, post_id: int, action: str, session: DB, settings: Config
) -> Response:
    """Approve, reject (with a reason), remove (with a reason) or restore one post."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    if action not in ACTIONS:
        return _page(request, session, actor, 404, f"There is no action '{action}'.")
    reason = text(await request.form(), "reason").strip()[:2000] or None
    try:
        service.moderate_post(session, post_id, action, reason, actor=actor, now=utcnow())
    except TownsquareError as exc:
        session.rollback()
        message = f"{exc.detail[:1].upper()}{exc.detail[1:]}."
        return _page(request, session, actor, exc.status, message)
    return see_other(f"/moderation#done-{post_id}")
