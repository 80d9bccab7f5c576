"""Account pages before a session: sign-up and its mailed link (sent again on request),
sign-in with the two-factor step, sign-out, and a forgotten password's mailed reset link. The
account page itself, and the link confirming a new address, are `account_page`.

Forms of a signed-in session carry the session's CSRF token (checked by `kit.page_actor`);
forms before a session exists (sign-up, sign-in) carry a double-submit token that must match
a SameSite=Strict cookie, so no other site can sign a visitor into an account of its choosing.
Between a right password and the two-factor code, the page carries a signed five-minute
pending sign-in token, never the password.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from pydantic import ValidationError

from townsquare.accounts import service as accounts
from townsquare.accounts import signin
from townsquare.accounts.schemas import NewPassword, SignUp
from townsquare.accounts.security import same
from townsquare.db import utcnow
from townsquare.errors import (
    InvalidParameter,
    TooManyRequests,
    TownsquareError,
    Unauthorized,
)
from townsquare.http.deps import (
    DB,
    SESSION_COOKIE,
    Client,
    Config,
    platform_of,
    set_session_cookie,
)
from townsquare.http.ratelimit import count, retry_later
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.settings import Settings
from townsquare.web.kit import (
    PageActor,
    as_sentence,
    local_path,
    nav_actor,
    page,
    page_router,
    see_other,
    sentence,
    text,
)

router = page_router()
FORM_COOKIE = "ts_form"
NextPath = Annotated[str, Query(alias="next")]


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
    secure = platform_of(request).settings.site_url().startswith("https://")
    response.set_cookie(
        FORM_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )
    return response


def form_token_ok(request: Request, form: FormData) -> bool:
    """True when the form's token matches the visitor's cookie."""
    cookie, sent = request.cookies.get(FORM_COOKIE), form.get("form_token")
    return bool(cookie) and isinstance(sent, str) and same(sent, cookie or "")


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
            "email": _("Enter an e-mail address like name@example.org."),
            "password": _("Choose a password of at least 10 characters."),
        }.get(name, _("Check the form."))
        return anonymous_page(
            request, "accounts/sign_up.html", 422, values=values, error=(name, message)
        )
    try:
        count(request, "sign-up")
        accounts.sign_up(
            session, settings, body.email, body.password, body.display_name, now=utcnow()
        )
    except TownsquareError as exc:
        error = ("email", as_sentence(exc.detail))
        shown = anonymous_page(
            request, "accounts/sign_up.html", exc.status, values=values, error=error
        )
        return retry_later(shown, exc)
    return anonymous_page(request, "accounts/sign_up_sent.html", email=body.email, resent=False)


@router.post("/verify/resend")
async def resend_link(request: Request, session: DB, settings: Config) -> Response:
    """Mail a new confirmation link; the page says the same whether or not the address has an
    account waiting for one."""
    form = await request.form()
    email = text(form, "email").strip()[:320]
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    if "@" not in email:
        error = ("email", _("Enter the e-mail address you signed up with."))
        return anonymous_page(
            request, "accounts/sign_up_sent.html", 422, email=email, resent=False, error=error
        )
    try:
        count(request, "sign-up")
    except TooManyRequests as exc:
        shown = anonymous_page(
            request,
            "accounts/sign_up_sent.html",
            429,
            email=email,
            resent=False,
            error=sentence(exc),
        )
        return retry_later(shown, exc)
    accounts.resend_verification(session, settings, email, now=utcnow())
    return anonymous_page(request, "accounts/sign_up_sent.html", email=email, resent=True)


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
        count(request, "anonymous")
        accounts.verify_email(session, token, now=utcnow())
    except TooManyRequests as exc:
        shown = anonymous_page(
            request, "accounts/verify.html", 429, token=token, done=False, error=sentence(exc)
        )
        return retry_later(shown, exc)
    except InvalidParameter:
        error = _("This link is unknown, used or expired. Sign in to ask for a new one.")
        return anonymous_page(
            request, "accounts/verify.html", 400, token="", done=False, error=error
        )
    return anonymous_page(request, "accounts/verify.html", token="", done=True)


# ---- sign-in (with its two-factor step) and sign-out --------------------------------------


WHY_SIGN_IN = (
    ("/posts/new", N_("Sign in to report what you saw.")),
    ("/posts/mine", N_("Sign in to see your posts.")),
    ("/account", N_("Sign in to see your account.")),
)
"""What the sign-in page says above its form, by the page it leads back to."""


def sign_in_notice(target: str, signed_out: str) -> str:
    """Why the visitor is asked to sign in, in a sentence ('' when there is nothing to say)."""
    if signed_out == "everywhere":
        return _("You are signed out on every device. Sign in again here to go on.")
    path = target.split("?", 1)[0]
    return next((_(words) for prefix, words in WHY_SIGN_IN if path == prefix), "")


@router.get("/sign-in")
def sign_in_page(request: Request, next_path: NextPath = "", signed_out: str = "") -> Response:
    """The sign-in form, saying why when a page sent the visitor here."""
    target = local_path(next_path, "")
    signed_in = nav_actor(request)
    return anonymous_page(
        request,
        "accounts/sign_in.html",
        step="password",
        email="",
        next=target,
        notice=sign_in_notice(target, signed_out),
        unverified=signed_in is not None and not signed_in.email_verified,
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
async def sign_in(request: Request, session: DB, settings: Config, client: Client) -> Response:
    """Password first; accounts with two-factor sign-in on are asked for a code next."""
    form = await request.form()
    email, password = text(form, "email"), text(form, "password")
    target = local_path(text(form, "next"), "/account")
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        opened = signin.sign_in(
            session, settings, email[:320], password[:200], None, client=client, now=utcnow()
        )
    except signin.SecondFactorRequired as exc:
        return _code_step(request, exc.pending, target)
    except Unauthorized:
        return _password_step(request, 401, target, _("Wrong e-mail or password."), email)
    except TooManyRequests as exc:
        return _password_step(request, 429, target, f"{exc.detail}.", email)
    return _signed_in(settings, opened.token, target)


@router.post("/sign-in/code")
async def sign_in_code(request: Request, session: DB, settings: Config, client: Client) -> Response:
    """The two-factor step: the pending sign-in token of the password step and a code."""
    form = await request.form()
    pending, code = text(form, "pending")[:500], text(form, "totp").strip()[:10]
    target = local_path(text(form, "next"), "/account")
    if not form_token_ok(request, form):
        return anonymous_page(request, "refused.html", 403)
    try:
        opened = signin.sign_in_with_code(
            session, settings, pending, code, client=client, now=utcnow()
        )
    except signin.PendingSignInInvalid:
        error = _("That sign-in expired or was already used. Enter your password again.")
        return _password_step(request, 401, target, error)
    except signin.SecondFactorRequired as exc:
        error = _("That code is not valid now; wait for the next one.")
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
        error = ("email", _("Enter the e-mail address you signed up with."))
        return anonymous_page(
            request, "accounts/forgot.html", 422, sent=False, email=email, error=error
        )
    try:
        count(request, "password-reset")
    except TooManyRequests as exc:
        shown = anonymous_page(
            request, "accounts/forgot.html", 429, sent=False, email=email, error=sentence(exc)
        )
        return retry_later(shown, exc)
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
        error = ("password", _("Choose a password of at least 10 characters."))
        return anonymous_page(
            request, "accounts/reset.html", 422, token=token, done=False, error=error
        )
    try:
        count(request, "anonymous")
        accounts.reset_password(session, body.token, body.password, now=utcnow())
    except TooManyRequests as exc:
        shown = anonymous_page(
            request, "accounts/reset.html", 429, token=token, done=False, error=sentence(exc)
        )
        return retry_later(shown, exc)
    except InvalidParameter:
        error = ("token", "This link is unknown, used or expired. Ask for a new one.")
        return anonymous_page(
            request, "accounts/reset.html", 400, token="", done=False, error=error
        )
    response = anonymous_page(request, "accounts/reset.html", token="", done=True)
    response.delete_cookie(SESSION_COOKIE, path="/")  # every session of the account ended
    return response


@router.post("/sign-out")
async def sign_out(session: DB, actor: PageActor) -> Response:
    """End this session (the form carries its CSRF token)."""
    signin.sign_out(session, actor, now=utcnow())
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
