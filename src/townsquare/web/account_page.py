"""The account page and its forms: confirm the address again, change the password or the
e-mail address (and the link, mailed to the new one, that confirms it), download my data,
two-factor sign-in, sign out everywhere, delete my account.

Every form carries the session's CSRF token (checked by `kit.page_actor`) and works without
JavaScript: a refused form shows the page again with the reason in words beside that form; a
done one redirects (post/redirect/get) to the page with a line saying what changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import segno
from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from townsquare.accounts import selfservice, twofactor
from townsquare.accounts import service as accounts
from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import (
    Conflict,
    Forbidden,
    InvalidParameter,
    TooManyRequests,
    TownsquareError,
)
from townsquare.housekeeping import rights
from townsquare.http.deps import DB, SESSION_COOKIE, Client, Config
from townsquare.http.ratelimit import count, retry_later
from townsquare.i18n import N_
from townsquare.i18n import gettext as _
from townsquare.web.accounts import anonymous_page
from townsquare.web.kit import (
    PageActor,
    Refused,
    as_sentence,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
)

router = page_router()
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DONE = {
    "on": N_("Two-factor sign-in is on. Each sign-in now asks for a code from your app."),
    "off": N_("Two-factor sign-in is off."),
    "password": N_(
        "Your password is changed. Every other session and API token of your account "
        "has ended; this one stays signed in."
    ),
    "email": N_(
        "We sent a link to your new address. Your address changes when you open it; "
        "until then, keep signing in with the current one."
    ),
    "verify": N_("We sent a new link to confirm your address. It works for two days."),
}
"""What the page says after each form is done, by `?done=`."""


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
    problem: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The page; `error` is a two-factor refusal, `problem` (form, words) another form's."""
    me = accounts.me(session, actor)
    return page(
        request,
        "accounts/account.html",
        status,
        actor=actor,
        me=me,
        setup=setup,
        needs_totp=me.needs_totp,
        error=error,
        done=_(DONE[done]) if done in DONE else "",
        done_key=done if done in DONE else "",
        problem=problem,
        values=values or {},
    )


@router.get("/account")
async def account_page(request: Request, session: DB, actor: PageActor, done: str = "") -> Response:
    """Who is signed in, what they can change, and links to their pages."""
    totp = request.query_params.get("totp", "")  # the older ?totp=on|off still says it
    return _account_page(request, session, actor, done=done or totp)


def _said(detail: str) -> str:
    """A service's words in the page's language when the catalog has them (`N_` marks them)."""
    return _(detail) if detail else detail


def _in_words(exc: Refused) -> str:
    if isinstance(exc, InvalidParameter):  # the field is named by where the words stand
        return as_sentence(_said(exc.detail.removeprefix(f"{exc.parameter}: ")))
    if isinstance(exc, TownsquareError):  # a rule the catalog knows is said in the page's language
        return as_sentence(_said(exc.detail.removeprefix("code: ")))
    return sentence(exc)


def _form_refused(
    request: Request, session: Session, actor: Actor, form: str, values: dict[str, str]
) -> Callable[[Refused], Response]:
    """The page again, saying beside `form` why it was refused."""

    def show(exc: Refused) -> Response:
        problem = (form, _in_words(exc))
        return _account_page(
            request, session, actor, status_of(exc), problem=problem, values=values
        )

    return show


def _missing(request: Request, session: Session, actor: Actor, form: str, words: str) -> Response:
    return _account_page(request, session, actor, 422, problem=(form, words))


# ---- the address, the password -----------------------------------------------------------


@router.post("/account/verify/resend")
async def resend_link(session: DB, settings: Config, actor: PageActor) -> Response:
    """Mail a new link to confirm the account's address."""
    me = accounts.me(session, actor)
    accounts.resend_verification(session, settings, me.email, now=utcnow())
    return see_other("/account?done=verify#address")


@router.post("/account/password")
async def change_password(
    request: Request, session: DB, settings: Config, actor: PageActor, client: Client
) -> Response:
    """A new password, given the current one."""
    form = await request.form()
    current, new = text(form, "current_password")[:200], text(form, "new_password")[:201]
    if not current:
        return _missing(request, session, actor, "password", _("Enter your current password."))
    show = _form_refused(request, session, actor, "password", {})
    with refusal_shown(session, show, InvalidParameter, Forbidden, TooManyRequests):
        selfservice.change_password(
            session, settings, current, new, actor=actor, client=client, now=utcnow()
        )
    return see_other("/account?done=password#password")


@router.post("/account/email")
async def change_email(
    request: Request, session: DB, settings: Config, actor: PageActor, client: Client
) -> Response:
    """Mail a confirmation link to the new address; nothing changes until it is opened."""
    form = await request.form()
    new, password = text(form, "new_email").strip()[:320], text(form, "password")[:200]
    values = {"new_email": new}
    if not re.match(EMAIL_PATTERN, new):
        words = _("Enter the new address like name@example.org.")
        return _account_page(request, session, actor, 422, problem=("email", words), values=values)
    if not password:
        words = _("Enter your current password to change the address.")
        return _account_page(request, session, actor, 422, problem=("email", words), values=values)
    show = _form_refused(request, session, actor, "email", values)
    with refusal_shown(session, show, InvalidParameter, Forbidden, TooManyRequests):
        selfservice.request_email_change(
            session, settings, password, new, actor=actor, client=client, now=utcnow()
        )
    return see_other("/account?done=email#email")


@router.get("/account/email/confirm")
def email_change_page(request: Request, token: str = "") -> Response:
    """The link mailed to a new address: a button confirms (a mail scanner's GET changes
    nothing)."""
    return anonymous_page(request, "accounts/email_confirm.html", token=token[:1000], done="")


@router.post("/account/email/confirm")
async def email_change(request: Request, session: DB, settings: Config) -> Response:
    """Move the link's account to the new address; the old address is told."""
    form = await request.form()
    token = text(form, "token")[:1000]
    try:
        count(request, "anonymous")
        new = selfservice.confirm_email_change(session, settings, token, now=utcnow())
    except TooManyRequests as exc:
        shown = anonymous_page(
            request, "accounts/email_confirm.html", 429, token=token, done="", error=sentence(exc)
        )
        return retry_later(shown, exc)
    except (InvalidParameter, Conflict) as exc:
        session.rollback()
        words = _said(exc.detail.removeprefix("token: "))
        error = as_sentence(words) + " " + _("Ask for a new link on your account page.")
        status = 400 if isinstance(exc, InvalidParameter) else exc.status  # as /verify says
        return anonymous_page(
            request, "accounts/email_confirm.html", status, token="", done="", error=error
        )
    return anonymous_page(request, "accounts/email_confirm.html", token="", done=new)


# ---- every session, and the account itself ------------------------------------------------


@router.post("/account/sign-out-everywhere")
async def sign_out_everywhere(session: DB, actor: PageActor) -> Response:
    """End every session of the account, this one included, and its API tokens."""
    selfservice.sign_out_everywhere(session, actor=actor, now=utcnow())
    response = see_other("/sign-in?signed_out=everywhere")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/account/delete")
async def delete_account(
    request: Request, session: DB, settings: Config, actor: PageActor, client: Client
) -> Response:
    """Erase the account and everything of it, with the password and a ticked confirmation."""
    form = await request.form()
    password = text(form, "password")[:200]
    if text(form, "confirm") != "yes":
        words = _("Tick the box to confirm that you want your account and data deleted.")
        return _missing(request, session, actor, "delete", words)
    if not password:
        return _missing(request, session, actor, "delete", _("Enter your password to delete it."))
    show = _form_refused(request, session, actor, "delete", {})
    with refusal_shown(session, show, Forbidden, TooManyRequests):
        rights.delete_account(
            session, settings, actor=actor, password=password, client=client, now=utcnow()
        )
    response = page(request, "accounts/deleted.html", actor=None)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- two-factor sign-in -------------------------------------------------------------------


def _refused(
    request: Request, session: Session, actor: Actor, setup: bool = False
) -> Callable[[Refused], Response]:
    """The account page saying why a two-factor step was refused (with the setup still in
    progress when `setup`)."""

    def show(exc: Refused) -> Response:
        found = twofactor.totp_in_setup(session, actor=actor) if setup else None
        shown = TotpSetup(*found) if found else None
        return _account_page(request, session, actor, status_of(exc), shown, _in_words(exc))

    return show


@router.post("/account/totp")
async def totp_setup(request: Request, session: DB, actor: PageActor) -> Response:
    """Start two-factor setup: a new secret shown as a QR code, and the confirm form."""
    with refusal_shown(session, _refused(request, session, actor), Conflict):
        secret, uri = twofactor.setup_totp(session, actor=actor)
    return _account_page(request, session, actor, setup=TotpSetup(secret, uri))


@router.post("/account/totp/confirm")
async def totp_confirm(request: Request, session: DB, actor: PageActor) -> Response:
    """Turn two-factor sign-in on with a first code from the app."""
    code = text(await request.form(), "code").strip()[:10]
    show = _refused(request, session, actor, setup=True)
    with refusal_shown(session, show, InvalidParameter, Conflict):
        twofactor.confirm_totp(session, code, actor=actor, now=utcnow())
    return see_other("/account?done=on")


@router.post("/account/totp/disable")
async def totp_disable(request: Request, session: DB, actor: PageActor) -> Response:
    """Turn two-factor sign-in off with a current code, unless a role of the account needs it."""
    code = text(await request.form(), "code").strip()[:10]
    show = _refused(request, session, actor)
    with refusal_shown(session, show, InvalidParameter, Conflict, Forbidden):
        twofactor.disable_totp(session, code, actor=actor, now=utcnow())
    return see_other("/account?done=off")
