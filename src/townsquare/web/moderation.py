"""The moderators' page: the queue with the checks that flagged each post, recent decisions,
and the four actions (each one audited by `moderation.service`).

Posts are shown scrubbed, at their public point. The exact point and the text as written
are shown for one post after a stated reason (the author reads it in their access log), on
the page answering that form only: never in a URL, never on a later page.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.http.deps import DB
from townsquare.media import service as media
from townsquare.moderation import service
from townsquare.posts.schemas import PostRevealed
from townsquare.web.kit import (
    ModeratorPage,
    Refused,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
)

router = page_router()
ACTIONS = ("approve", "reject", "remove", "restore")


def _page(
    request: Request,
    session: DB,
    actor: Actor,
    status: int = 200,
    error: str | None = None,
    revealed: PostRevealed | None = None,
) -> Response:
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


def _refused(request: Request, session: DB, actor: Actor) -> Callable[[Refused], Response]:
    """The page again, saying why the action was refused."""
    return lambda exc: _page(request, session, actor, status_of(exc), sentence(exc))


@router.get("/moderation")
async def moderation_page(request: Request, session: DB, actor: ModeratorPage) -> Response:
    """Pending posts, oldest first; then the latest decisions, to remove or restore."""
    return _page(request, session, actor)


# Declared before the action route, which would otherwise take "exact-point" as an action.
@router.post("/moderation/posts/{post_id}/exact-point")
async def reveal(request: Request, post_id: int, session: DB, actor: ModeratorPage) -> Response:
    """Show one post's exact point and text as written, for a reason the author will read."""
    reason = text(await request.form(), "reason")[:2000]
    with refusal_shown(session, _refused(request, session, actor)):
        shown = service.reveal_post(session, post_id, reason, actor=actor)
    return _page(request, session, actor, revealed=shown)


@router.post("/moderation/posts/{post_id}/{action}")
async def moderate(
    request: Request, post_id: int, action: str, session: DB, actor: ModeratorPage
) -> Response:
    """Approve, reject (with a reason), remove (with a reason) or restore one post."""
    if action not in ACTIONS:
        return _page(request, session, actor, 404, f"There is no action '{action}'.")
    reason = text(await request.form(), "reason").strip()[:2000] or None
    with refusal_shown(session, _refused(request, session, actor)):
        service.moderate_post(session, post_id, action, reason, actor=actor, now=utcnow())
    return see_other(f"/moderation#done-{post_id}")
