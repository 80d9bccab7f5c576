"""`townsquare users grant`: give an account a role."""

from __future__ import annotations

from typing import Annotated

import typer

from townsquare import logs
from townsquare.accounts import service
from townsquare.db import make_engine, make_sessionmaker
from townsquare.errors import TownsquareError
from townsquare.settings import Settings

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
    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_sessionmaker(engine)() as session:
            service.grant_role(session, email, role, actor_id=None, agency=agency)
    except TownsquareError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"{email} is now {role}")
