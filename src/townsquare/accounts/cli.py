"""`townsquare users grant` gives an account a role; `users verify` confirms its address."""

from __future__ import annotations

from typing import Annotated

import typer

from townsquare.accounts import grants
from townsquare.accounts import service as accounts
from townsquare.commands import configured, fail, store
from townsquare.db import utcnow
from townsquare.errors import TownsquareError

users_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)


@users_app.command("grant")
def grant(
    email: Annotated[str, typer.Argument(help="E-mail of the account.")],
    role: Annotated[str, typer.Argument(help="resident, moderator, agency_officer, ...")],
    agency: Annotated[
        str | None, typer.Option(help="Slug of the agency (agency_officer, agency_admin).")
    ] = None,
) -> None:
    """Give an account a role; privileged roles apply once it signs in with TOTP."""
    try:
        with store(configured()) as factory, factory() as session:
            grants.grant_role(session, email, role, actor_id=None, agency=agency)
    except TownsquareError as exc:
        fail(exc.detail)
    typer.echo(f"{email} is now {role}")


@users_app.command("verify")
def verify(email: Annotated[str, typer.Argument(help="E-mail of the account.")]) -> None:
    """Confirm an account's address without its mailed link (the operator vouches); audited."""
    try:
        with store(configured()) as factory, factory() as session:
            changed = accounts.verify_address(session, email, actor_id=None, now=utcnow())
    except TownsquareError as exc:
        fail(exc.detail)
    typer.echo(f"{email} is confirmed" if changed else f"{email} was already confirmed")
