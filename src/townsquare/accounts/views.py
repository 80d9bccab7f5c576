"""Account API routes: sign-up, sign-in, two-factor, tokens and password resets."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from townsquare.accounts import service, signin, twofactor
from townsquare.accounts.schemas import (
    Code,
    EmailOnly,
    LinkToken,
    Me,
    NewPassword,
    SignedIn,
    SignIn,
    SignUp,
    TokenCreate,
    TokenCreated,
    TotpSetup,
)
from townsquare.db import utcnow
from townsquare.http.deps import (
    DB,
    SESSION_COOKIE,
    Client,
    Config,
    CurrentActor,
    set_session_cookie,
)
from townsquare.http.ratelimit import limited

router = APIRouter(prefix="/api/v1/account", tags=["accounts"])


@router.post(
    "/sign-up",
    status_code=201,
    summary="Create a resident account",
    dependencies=[Depends(limited("sign-up"))],
)
def sign_up(body: SignUp, session: DB, settings: Config) -> dict[str, int]:
    """Create the account and mail a verification link."""
    account_id = service.sign_up(
        session, settings, body.email, body.password, body.display_name, now=utcnow()
    )
    return {"id": account_id}


@router.post(
    "/verify",
    summary="Confirm an e-mail address from its link",
    dependencies=[Depends(limited("anonymous"))],
)
def verify(body: LinkToken, session: DB) -> dict[str, bool]:
    """Mark the address verified."""
    service.verify_email(session, body.token, now=utcnow())
    return {"verified": True}


@router.post("/sign-in", summary="Open a session (sets the cookie)")
def sign_in(
    body: SignIn, response: Response, session: DB, settings: Config, client: Client
) -> SignedIn:
    """Sign in with password (and TOTP once enabled)."""
    opened = signin.sign_in(
        session, settings, body.email, body.password, body.totp, client=client, now=utcnow()
    )
    set_session_cookie(response, settings, opened.token)
    return SignedIn(
        account_id=opened.actor.account_id,
        roles=sorted(opened.actor.roles),
        csrf_token=opened.actor.csrf_token or "",
        second_factor=opened.actor.privileged,
    )


@router.post("/sign-out", status_code=204, summary="End this session and its tokens")
def sign_out(actor: CurrentActor, response: Response, session: DB) -> None:
    """End the session; the tokens made in it stop working."""
    signin.sign_out(session, actor, now=utcnow())
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("", summary="The signed-in account")
def get_me(actor: CurrentActor, session: DB) -> Me:
    """The caller's own account."""
    return service.me(session, actor)


@router.post("/tokens", status_code=201, summary="Create a personal API token")
def create_token(
    body: TokenCreate, actor: CurrentActor, session: DB, settings: Config
) -> TokenCreated:
    """A token for scripts (`Authorization: Bearer ...`); shown once; lives api_token_days."""
    made = signin.create_api_token(session, settings, body.name, actor=actor, now=utcnow())
    return TokenCreated(id=made.id, name=made.name, token=made.token)


@router.post("/totp", summary="Start two-factor setup")
def totp_setup(actor: CurrentActor, session: DB) -> TotpSetup:
    """A secret for an authenticator app."""
    secret, uri = twofactor.setup_totp(session, actor=actor)
    return TotpSetup(secret=secret, uri=uri)


@router.post("/totp/confirm", status_code=204, summary="Turn two-factor sign-in on")
def totp_confirm(body: Code, actor: CurrentActor, session: DB) -> None:
    """Confirm with a first code."""
    twofactor.confirm_totp(session, body.code, actor=actor, now=utcnow())


@router.post("/totp/disable", status_code=204, summary="Turn two-factor sign-in off")
def totp_disable(body: Code, actor: CurrentActor, session: DB) -> None:
    """With a current code; refused (403) while one of the account's roles needs it."""
    twofactor.disable_totp(session, body.code, actor=actor, now=utcnow())


@router.post(
    "/password-reset",
    status_code=202,
    summary="Mail a password reset link",
    dependencies=[Depends(limited("password-reset"))],
)
def password_reset(body: EmailOnly, session: DB, settings: Config) -> None:
    """The same answer whether or not the account exists."""
    service.request_password_reset(session, settings, body.email, now=utcnow())


@router.post(
    "/password",
    status_code=204,
    summary="Set a new password from a reset link",
    dependencies=[Depends(limited("anonymous"))],
)
def new_password(body: NewPassword, session: DB) -> None:
    """Every session and token of the account ends."""
    service.reset_password(session, body.token, body.password, now=utcnow())
