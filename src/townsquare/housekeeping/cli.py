"""`townsquare retention run` and `townsquare audit verify`: housekeeping by hand (or cron)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from townsquare import audit
from townsquare.commands import configured, store
from townsquare.db import utcnow
from townsquare.housekeeping.retention import run_retention
from townsquare.media.service import store_of

retention_app = typer.Typer(help="Retention of private data.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@retention_app.command("run")
def retention_run(
    now: Annotated[
        datetime | None,
        typer.Option(help="Act as if it were this UTC time (to check what a run would do)."),
    ] = None,
) -> None:
    """Delete raw records and other private data past their retention; print the counts."""
    settings = configured()
    moment = utcnow() if now is None else now.replace(tzinfo=now.tzinfo or UTC)
    with store(settings) as factory:
        report = run_retention(factory, now=moment, store=store_of(settings))
    typer.echo(report.summary())


@audit_app.command("verify")
def verify() -> None:
    """Walk the audit chain; exit 1 naming the first entry that was changed or removed."""
    with store(configured()) as factory, factory() as session:
        result = audit.verify(session)
    if not result.ok:
        typer.echo(f"audit chain broken at entry {result.broken_at}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {result.entries} entries")
