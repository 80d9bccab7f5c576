"""Post API routes: submit, read, edit, close, delete one's own, appeal; read a published post."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from townsquare.accounts.security import server_secret
from townsquare.db import utcnow
from townsquare.http.deps import DB, Config, CurrentActor
from townsquare.posts import lifecycle, service
from townsquare.posts.schemas import PostEdit, PostIn, PostOwn, PostPublic, Reason

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])


@router.post("", status_code=201, summary="Submit a post (queued for moderation)")
def submit(body: PostIn, actor: CurrentActor, session: DB, settings: Config) -> PostOwn:
    """Guideline refusals answer 422 with every reason."""
    secret = server_secret(settings)
    return service.submit_post(session, settings, secret, body, actor=actor, now=utcnow())


@router.get("/mine", summary="The caller's posts")
def mine(actor: CurrentActor, session: DB) -> list[PostOwn]:
    """Newest first, with state and reasons."""
    return service.list_mine(session, actor=actor)


@router.get("/{post_id}", summary="One of the caller's posts, in full")
def own(post_id: int, actor: CurrentActor, session: DB) -> PostOwn:
    """Another resident's post is 404 (moderators read posts in the moderation queue)."""
    return service.get_own(session, post_id, actor=actor)


@router.patch("/{post_id}", summary="Edit one's pending or published post")
def edit(post_id: int, body: PostEdit, actor: CurrentActor, session: DB) -> PostOwn:
    """Checked again like a new post; a published post goes back to moderation."""
    return lifecycle.edit_post(session, post_id, body, actor=actor, now=utcnow())


@router.post("/{post_id}/close", summary="Close one's pending or published post")
def close(post_id: int, actor: CurrentActor, session: DB) -> PostOwn:
    """Its incident closes; the exact point expires with the closed-post retention."""
    return lifecycle.close_post(session, post_id, actor=actor, now=utcnow())


@router.delete("/{post_id}", status_code=204, summary="Delete one's post")
def delete(post_id: int, actor: CurrentActor, session: DB) -> Response:
    """Its incident is retracted on every channel; the post and its exact point are gone."""
    lifecycle.delete_post(session, post_id, actor=actor, now=utcnow())
    return Response(status_code=204)


@router.post("/{post_id}/appeal", summary="Appeal a rejection or removal (once)")
def appeal(post_id: int, body: Reason, actor: CurrentActor, session: DB) -> PostOwn:
    """The post returns to the moderation queue."""
    return service.appeal_post(session, post_id, body.reason, actor=actor, now=utcnow())


@router.get("/{post_id}/public", summary="A published post as anyone sees it")
def public(post_id: int, request: Request, session: DB) -> PostPublic:
    """Scrubbed text and a displaced, coarse point; unpublished posts are 404."""
    return service.get_public(session, post_id)
