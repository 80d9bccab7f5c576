"""Resident pages: sign-up and its mailed link, sign-in with the two-factor step, sign-out,
a forgotten password's mailed reset link, the account with two-factor setup, a new post with
live guideline prompts, and one's own posts with the appeal, edit, close and delete.

Forms of a signed-in session carry the session's CSRF token (checked by
`accounts.views.current_actor`); forms before a session exists (sign-up, sign-in) carry a
double-submit token that must match a SameSite=Strict cookie, so no other site can sign a
visitor into an account of its choosing. Between a right password and the two-factor code,
the page carries a signed five-minute pending sign-in token, never the password.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.datastructures import FormData
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from townsquare.accounts import service as accounts
from townsquare.accounts import signin, twofactor
from townsquare.accounts.schemas import Actor, NewPassword, SignUp
from townsquare.accounts.security import same, server_secret
from townsquare.db import utcnow
from townsquare.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
    PayloadTooLarge,
    TooManyRequests,
    TownsquareError,
    Unauthorized,
)
from townsquare.http.deps import DB, SESSION_COOKIE, Config, current_actor, set_session_cookie
from townsquare.media import intake
from townsquare.media import service as media
from townsquare.posts import lifecycle
from townsquare.posts import service as posts
from townsquare.posts.schemas import PostEdit, PostIn, PostOwn
from townsquare.posts.service import GuidelineRefusal
from townsquare.privacy.policy import default_policy
from townsquare.settings import Settings
from townsquare.web import drafts
from townsquare.web.kit import render


async def close_form(request: Request) -> AsyncIterator[None]:
    """Close the uploads of a form the route read itself (FastAPI closes only its own)."""
    yield
    await request.close()


PageDeps = [Depends(close_form)]
router = APIRouter(
    include_in_schema=False, default_response_class=HTMLResponse, dependencies=PageDeps
)
FORM_COOKIE = "ts_form"
NO_STORE = {"Cache-Control": "no-store"}
NextPath = Annotated[str, Query(alias="next")]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page that may hold account data: rendered, and never stored by a cache."""
    response = render(request, template, status_code, **context)
    response.headers.update(NO_STORE)
    return response


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site (never another host), else `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def to_sign_in(next_path: str) -> RedirectResponse:
    """Send the visitor to sign in, then back to `next_path`."""
    return RedirectResponse(f"/sign-in?next={quote(next_path, safe='/')}", status_code=303)


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get."""
    return RedirectResponse(url, status_code=303)


async def page_actor(request: Request, session: DB, settings: Config) -> Actor | None:
    """The signed-in visitor of a GET page, or None."""
    try:
        return await current_actor(request, session, settings)
    except Unauthorized:
        return None


async def form_actor(request: Request, session: DB, settings: Config) -> Actor | Response:
    """The signed-in sender of a form, or the page that says why the form is refused."""
    try:
        return await current_actor(request, session, settings)
    except Unauthorized:
        return to_sign_in(local_path(request.headers.get("hx-current-url"), "/account"))
    except Forbidden:
        return page(request, "refused.html", 403, actor=None)


# ---- forms before a session: a double-submit token --------------------------------------


def form_token(request: Request) -> str:
    """The visitor's pre-session form token (a new one if the cookie is absent)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def anonymous_page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> Response:
    """A sign-up or sign-in page carrying the form token, and its cookie."""
    token = form_token(request)
    response = page(request, template, status_code, form_token=token, actor=None, **context)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def form_token_ok(request: Request, form: FormData) -> bool:
    """True when the form's token matches the visitor's cookie."""
    cookie, sent = request.cookies.get(FORM_COOKIE), form.get("form_token")
    return bool(cookie) and isinstance(sent, str) and same(sent, cookie or "")


def text(form: FormData, name: str) -> str:
    """A text field ('' when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


# ---- sign-up and the mailed link ----------------------------------------------------------


@router.get("/sign-up")
def sign_up_page(request: Request) -> Response:
    """The sign-up form."""
    return anonymous_page(request, "accounts/sign_up.html", values={})


@router.post("/sign-up")
async def sign_up(request: Request, session: DB, settings: Config) -> Response:
    """Create the account and mail the verification link."""
    form = await request.form()
    values = {"email": text(form, "email"), "display_name": text(form, "display_name")}
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        body = SignUp(password=text(form, "password"), **values)
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][-1])
        message = {
            "email": "Enter an e-mail address like name@example.org.",
            "password": "Choose a password of at least 10 characters.",
        }.get(name, "Check the form.")
        return anonymous_page(
            request, "accounts/sign_up.html", 422, values=values, error=(name, message)
        )
    try:
        accounts.sign_up(
            session, settings, body.email, body.password, body.display_name, now=utcnow()
        )
    except TownsquareError as exc:
        error = ("email", f"{exc.detail[:1].upper()}{exc.detail[1:]}.")
        return anonymous_page(
            request, "accounts/sign_up.html", exc.status, values=values, error=error
        )
    return page(request, "accounts/sign_up_sent.html", email=body.email, actor=None)


@router.get("/verify")
def verify_page(request: Request, token: str = "") -> Response:
    """The mailed link: a button confirms (a mail scanner's GET changes nothing)."""
    return anonymous_page(request, "accounts/verify.html", token=token[:200], done=False)


@router.post("/verify")
async def verify(request: Request, session: DB) -> Response:
    """Confirm the address of the link's account."""
    form = await request.form()
    token = text(form, "token")[:200]
    try:
        accounts.verify_email(session, token, now=utcnow())
    except InvalidParameter:
        error = "This link is unknown, used or expired. Sign in to ask for a new one."
        return anonymous_page(
            request, "accounts/verify.html", 400, token="", done=False, error=error
        )
    return anonymous_page(request, "accounts/verify.html", token="", done=True)


# ---- sign-in (with its two-factor step) and sign-out --------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, next_path: NextPath = "") -> Response:
    """The sign-in form."""
    return anonymous_page(
        request, "accounts/sign_in.html", step="password", email="", next=local_path(next_path, "")
    )


def _signed_in(settings: Settings, token: str, target: str) -> Response:
    response = see_other(target)
    set_session_cookie(response, settings, token)
    return response


def _password_step(
    request: Request, status: int, target: str, error: str, email: str = ""
) -> Response:
    return anonymous_page(
        request,
        "accounts/sign_in.html",
        status,
        step="password",
        email=email,
        next=target,
        error=error,
    )


def _code_step(
    request: Request, pending: str, target: str, status: int = 200, error: str | None = None
) -> Response:
    # The password is not kept in the page: a signed, five-minute token stands for it.
    return anonymous_page(
        request,
        "accounts/sign_in.html",
        status,
        step="code",
        pending=pending,
        next=target,
        error=error,
    )


@router.post("/sign-in")
async def sign_in(request: Request, session: DB, settings: Config) -> Response:
    """Password first; accounts with two-factor sign-in on are asked for a code next."""
    form = await request.form()
    email, password = text(form, "email"), text(form, "password")
    target = local_path(text(form, "next"), "/account")
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        opened = signin.sign_in(session, settings, email[:320], password[:200], None, now=utcnow())
    except signin.SecondFactorRequired as exc:
        return _code_step(request, exc.pending, target)
    except Unauthorized:
        return _password_step(request, 401, target, "Wrong e-mail or password.", email)
    except TooManyRequests as exc:
        return _password_step(request, 429, target, f"{exc.detail}.", email)
    return _signed_in(settings, opened.token, target)


@router.post("/sign-in/code")
async def sign_in_code(request: Request, session: DB, settings: Config) -> Response:
    """The two-factor step: the pending sign-in token of the password step and a code."""
    form = await request.form()
    pending, code = text(form, "pending")[:500], text(form, "totp").strip()[:10]
    target = local_path(text(form, "next"), "/account")
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        opened = signin.sign_in_with_code(session, settings, pending, code, now=utcnow())
    except signin.PendingSignInInvalid:
        error = "That sign-in expired or was already used. Enter your password again."
        return _password_step(request, 401, target, error)
    except signin.SecondFactorRequired as exc:
        error = "That code is not valid now; wait for the next one."
        return _code_step(request, exc.pending, target, 401, error)
    except TooManyRequests as exc:
        return _password_step(request, 429, target, f"{exc.detail}.")
    return _signed_in(settings, opened.token, target)


# ---- a forgotten password: the mailed reset link ------------------------------------------


@router.get("/forgot-password")
def forgot_page(request: Request) -> Response:
    """Ask for a reset link by e-mail."""
    return anonymous_page(request, "accounts/forgot.html", sent=False, email="")


@router.post("/forgot-password")
async def forgot(request: Request, session: DB, settings: Config) -> Response:
    """Mail a reset link; the page says the same whether or not the address has an account."""
    form = await request.form()
    email = text(form, "email").strip()[:320]
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    if "@" not in email:
        error = ("email", "Enter the e-mail address you signed up with.")
        return anonymous_page(
            request, "accounts/forgot.html", 422, sent=False, email=email, error=error
        )
    accounts.request_password_reset(session, settings, email, now=utcnow())
    return anonymous_page(request, "accounts/forgot.html", sent=True, email=email)


@router.get("/reset")
def reset_page(request: Request, token: str = "") -> Response:
    """The mailed link: a form for the new password (opening it changes nothing)."""
    return anonymous_page(request, "accounts/reset.html", token=token[:200], done=False)


@router.post("/reset")
async def reset(request: Request, session: DB) -> Response:
    """Set the new password; every session and API token of the account ends."""
    form = await request.form()
    token = text(form, "token")[:200]
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        body = NewPassword(token=token, password=text(form, "password"))
    except ValidationError:
        error = ("password", "Choose a password of at least 10 characters.")
        return anonymous_page(
            request, "accounts/reset.html", 422, token=token, done=False, error=error
        )
    try:
        accounts.reset_password(session, body.token, body.password, now=utcnow())
    except InvalidParameter:
        error = ("token", "This link is unknown, used or expired. Ask for a new one.")
        return anonymous_page(
            request, "accounts/reset.html", 400, token="", done=False, error=error
        )
    response = anonymous_page(request, "accounts/reset.html", token="", done=True)
    response.delete_cookie(SESSION_COOKIE, path="/")  # every session of the account ended
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: DB, settings: Config) -> Response:
    """End this session (the form carries its CSRF token)."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    signin.sign_out(session, actor, now=utcnow())
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """Two-factor setup in progress: the secret, its otpauth URI and the URI as a QR code."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The secret in groups of four, to type by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    @property
    def qr_data_uri(self) -> str:
        """The URI as an SVG QR code in a data: URI (the pages' CSP allows data: images)."""
        return str(segno.make(self.uri, error="m").svg_data_uri(scale=5, border=4))


def _account_page(
    request: Request,
    session: Session,
    actor: Actor,
    status: int = 200,
    setup: TotpSetup | None = None,
    error: str | None = None,
    done: str = "",
) -> Response:
    me = accounts.me(session, actor)
    needs_totp = me.needs_totp
    return page(
        request,
        "accounts/account.html",
        status,
        actor=actor,
        me=me,
        setup=setup,
        needs_totp=needs_totp,
        error=error,
        done=done,
    )


@router.get("/account")
async def account_page(request: Request, session: DB, settings: Config, totp: str = "") -> Response:
    """Who is signed in, two-factor sign-in, links to their pages and the sign-out button."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/account")
    done = totp if totp in ("on", "off") else ""
    return _account_page(request, session, actor, done=done)


def _sentence(exc: TownsquareError) -> str:
    detail = exc.detail.removeprefix("code: ")
    return f"{detail[:1].upper()}{detail[1:]}."


@router.post("/account/totp")
async def totp_setup(request: Request, session: DB, settings: Config) -> Response:
    """Start two-factor setup: a new secret shown as a QR code, and the confirm form."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    try:
        secret, uri = twofactor.setup_totp(session, actor=actor)
    except Conflict as exc:
        return _account_page(request, session, actor, exc.status, error=_sentence(exc))
    return _account_page(request, session, actor, setup=TotpSetup(secret, uri))


@router.post("/account/totp/confirm")
async def totp_confirm(request: Request, session: DB, settings: Config) -> Response:
    """Turn two-factor sign-in on with a first code from the app."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    code = text(await request.form(), "code").strip()[:10]
    try:
        twofactor.confirm_totp(session, code, actor=actor, now=utcnow())
    except (InvalidParameter, Conflict) as exc:
        session.rollback()
        found = twofactor.totp_in_setup(session, actor=actor)
        setup = TotpSetup(*found) if found else None
        return _account_page(request, session, actor, exc.status, setup, _sentence(exc))
    return see_other("/account?totp=on")


@router.post("/account/totp/disable")
async def totp_disable(request: Request, session: DB, settings: Config) -> Response:
    """Turn two-factor sign-in off with a current code, unless a role of the account needs it."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    code = text(await request.form(), "code").strip()[:10]
    try:
        twofactor.disable_totp(session, code, actor=actor, now=utcnow())
    except (InvalidParameter, Conflict, Forbidden) as exc:
        session.rollback()
        return _account_page(request, session, actor, exc.status, error=_sentence(exc))
    return see_other("/account?totp=off")


# ---- posts ---------------------------------------------------------------------------------


async def _post_form(request: Request) -> tuple[drafts.PostForm, UploadFile | None]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    descriptors = [d for d in form.getlist("descriptor") if isinstance(d, str)]
    photo = form.get("photo")
    upload = photo if isinstance(photo, UploadFile) and photo.filename else None
    return drafts.PostForm.from_form(values, descriptors), upload


def _new_post_page(
    request: Request, actor: Actor, form: drafts.PostForm, status: int = 200, **context: Any
) -> Response:
    prompts = context.pop("prompts", None)
    return page(
        request,
        "posts/post_new.html",
        status,
        actor=actor,
        form=form,
        prompts=prompts,
        drafts=drafts,
        **context,
    )


@router.get("/posts/new")
async def new_post_page(request: Request, session: DB, settings: Config) -> Response:
    """The form: category, title, description, time, place on a map, optional photo."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/posts/new")
    center = settings.map_center
    form = drafts.PostForm(lat="", lon="")
    return _new_post_page(request, actor, form, center=center)


@router.post("/posts/check")
async def check_draft(request: Request, session: DB, settings: Config) -> Response:
    """htmx, as the resident writes: every guideline's finding on the draft so far."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    form, _ = await _post_form(request)
    found = drafts.evaluate(form, now=utcnow())
    return page(request, "posts/_guideline_checks.html", prompts=found.prompts, live=True)


def _store_photo(
    session: Session, settings: Settings, upload: UploadFile, actor: Actor, now: datetime
) -> int:
    # Blocking (typing, blurring, a clip's frames): run in a worker thread.
    with intake.receive(upload.file, settings) as received:
        return media.upload_media(session, settings, received, actor=actor, now=now)


async def _submit(
    session: Session,
    settings: Settings,
    draft: PostIn,
    upload: UploadFile | None,
    actor: Actor,
    now: datetime,
) -> PostOwn:
    """Store the photo, then queue the post; a photo whose post is refused is deleted again."""
    secret = server_secret(settings)
    if upload is None:
        return posts.submit_post(session, settings, secret, draft, actor=actor, now=now)
    photo = await asyncio.to_thread(_store_photo, session, settings, upload, actor, now)
    try:
        with_photo = draft.model_copy(update={"media_ids": [photo]})
        return posts.submit_post(session, settings, secret, with_photo, actor=actor, now=now)
    except Exception:
        session.rollback()
        media.discard_unattached(session, settings, photo, actor=actor)
        raise


@router.post("/posts/new")
async def submit_post(request: Request, session: DB, settings: Config) -> Response:
    """Check, upload the photo, queue the post for moderation; refusals shown in the form."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    form, upload = await _post_form(request)
    now = utcnow()
    found = drafts.evaluate(form, now=now)
    center = settings.map_center
    if found.refused or found.draft is None:
        return _new_post_page(request, actor, form, 422, prompts=found.prompts, center=center)
    try:
        made = await _submit(session, settings, found.draft, upload, actor, now)
    except GuidelineRefusal as exc:
        prompts = [drafts.Prompt("refusal", c.code, c.reason) for c in exc.checks]
        return _new_post_page(request, actor, form, 422, prompts=prompts, center=center)
    except (InvalidParameter, PayloadTooLarge, Forbidden, TooManyRequests) as exc:
        error = f"{exc.detail[:1].upper()}{exc.detail[1:]}."
        return _new_post_page(request, actor, form, exc.status, error=error, center=center)
    return see_other(f"/posts/mine?sent={made.id}")


DONE = {
    "edited": "Your changes were saved. A moderator reads them before the feed shows them.",
    "closed": "The post is closed, and so is its item in the feed.",
    "deleted": "The post is deleted and its item is withdrawn from the feed and alerts.",
}
"""What the page says after an author's action (`?done=`): the action's result, plainly."""


@router.get("/posts/mine")
async def my_posts(
    request: Request, session: DB, settings: Config, sent: int = 0, done: str = ""
) -> Response:
    """The resident's posts with their state, the moderator's reason and the appeal."""
    actor = await page_actor(request, session, settings)
    if actor is None:
        return to_sign_in("/posts/mine")
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


async def _own_post_action(
    request: Request,
    session: Session,
    settings: Settings,
    act: Callable[[Actor, FormData], None],
    done: str,
) -> Response:
    """Run one author action from a /posts/mine form; errors are shown on that page."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    try:
        act(actor, await request.form())
    except GuidelineRefusal as exc:
        reasons = " ".join(c.reason for c in exc.checks)
        return _my_posts_page(request, session, actor, exc.status, error=reasons)
    except TownsquareError as exc:
        error = f"{exc.detail[:1].upper()}{exc.detail[1:]}."
        return _my_posts_page(request, session, actor, exc.status, error=error)
    return see_other(f"/posts/mine?done={done}")


@router.post("/posts/{post_id}/edit")
async def edit_post(request: Request, post_id: int, session: DB, settings: Config) -> Response:
    """Change the category, title or text; a published post goes back to the moderators."""

    def act(actor: Actor, form: FormData) -> None:
        change = PostEdit(
            category=text(form, "category") or None,
            title=text(form, "title")[:200] or None,
            description=text(form, "description")[:5000] or None,
        )
        lifecycle.edit_post(session, post_id, change, actor=actor, now=utcnow())

    return await _own_post_action(request, session, settings, act, "edited")


@router.post("/posts/{post_id}/close")
async def close_post(request: Request, post_id: int, session: DB, settings: Config) -> Response:
    """Close the post now; its feed item closes too."""

    def act(actor: Actor, form: FormData) -> None:
        lifecycle.close_post(session, post_id, actor=actor, now=utcnow())

    return await _own_post_action(request, session, settings, act, "closed")


@router.post("/posts/{post_id}/delete")
async def delete_post(request: Request, post_id: int, session: DB, settings: Config) -> Response:
    """Delete the post once the box is ticked; its feed item is retracted everywhere."""

    def act(actor: Actor, form: FormData) -> None:
        if text(form, "confirm") != "yes":
            raise Conflict("tick the box to confirm the deletion")
        lifecycle.delete_post(session, post_id, actor=actor, now=utcnow())

    return await _own_post_action(request, session, settings, act, "deleted")


@router.post("/posts/{post_id}/appeal")
async def appeal(request: Request, post_id: int, session: DB, settings: Config) -> Response:
    """Ask once for another review of a rejected or removed post."""
    actor = await form_actor(request, session, settings)
    if isinstance(actor, Response):
        return actor
    reason = text(await request.form(), "reason").strip()
    error, status = None, 409
    if not 3 <= len(reason) <= 2000:
        error = "Say in a few words why the post meets the guidelines."
    else:
        try:
            posts.appeal_post(session, post_id, reason, actor=actor, now=utcnow())
        except TownsquareError as exc:
            error, status = f"{exc.detail[:1].upper()}{exc.detail[1:]}.", exc.status
    if error is None:
        return see_other("/posts/mine")
    return _my_posts_page(request, session, actor, status, error=error)
