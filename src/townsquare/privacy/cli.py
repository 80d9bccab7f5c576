"""`townsquare retention run`: delete private data past its retention, and say how much."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from townsquare import logs
from townsquare.db import make_engine, make_sessionmaker, utcnow
from townsquare.media.service import store_of
from townsquare.privacy import service
from townsquare.settings import Settings

retention_app = typer.Typer(help="Retention of private data.", no_args_is_help=True)


@retention_app.command("run")
def retention_run(
    now: Annotated[
        datetime | None,
        typer.Option(help="Act as if it were this UTC time (to check what a run would do)."),
    ] = None,
) -> None:
    """Delete raw records and other private data past their retention; print the counts."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    engine = make_engine(settings.resolved_database_url())
    moment = utcnow() if now is None else now.replace(tzinfo=now.tzinfo or UTC)
    try:
        report = service.run_retention(
            make_sessionmaker(engine), now=moment, store=store_of(settings)
        )
    finally:
        engine.dispose()
    typer.echo(report.summary())
