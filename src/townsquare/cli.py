"""The `townsquare` command: serve, db, ingest, replay, sources."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from townsquare import __version__
from townsquare.accounts.cli import users_app
from townsquare.alerts.cli import keys_app
from townsquare.commands import configured, fail
from townsquare.db import make_engine
from townsquare.deployment import ConfigurationError, check_shared, several_nodes
from townsquare.housekeeping.cli import audit_app, retention_app
from townsquare.ingest.cli import ingest, replay, sources_app
from townsquare.media.cli import media_app
from townsquare.migrations import runner
from townsquare.places.cli import places_app
from townsquare.settings import Settings
from townsquare.tiles.cli import tiles_app
from townsquare.weekly.cli import weekly_app

app = typer.Typer(
    help="Townsquare: a privacy-first neighborhood safety feed.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.command()(ingest)
app.command()(replay)
app.add_typer(retention_app, name="retention")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(weekly_app, name="weekly")
app.add_typer(media_app, name="media")
app.add_typer(tiles_app, name="tiles")
app.add_typer(places_app, name="places")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"townsquare {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Townsquare: a privacy-first neighborhood safety feed."""


WORKER_HEALTHCHECK_S = 60
"""How long a worker of `serve --workers N` may take to answer uvicorn's ping. uvicorn's 5 s
default killed workers still starting on a loaded machine, and restarted them for ever."""


def serving_app() -> Any:
    """The app of one worker process of `serve --workers N` (uvicorn calls it in each)."""
    from townsquare.app import create_app

    return create_app(configured())


def workers_refused(settings: Settings, workers: int) -> str | None:
    """Why this configuration cannot run `workers` processes, in one line; None if it can.

    Workers of one node are nodes to each other: every process must see every event (NATS,
    not the in-process bus) and claim shared work with row locks (PostgreSQL, not SQLite).
    """
    if workers <= 1:
        return None
    if not several_nodes(settings):
        return (
            f"--workers {workers}: each worker needs every event, and the in-process bus "
            "reaches one process only; set TOWNSQUARE_BUS_URL=nats://host:4222 (NATS JetStream) "
            "or serve with --workers 1"
        )
    if settings.resolved_database_url().startswith("sqlite"):
        return (
            f"--workers {workers}: workers claim alerts and jobs with row locks SQLite does not "
            "have; set TOWNSQUARE_DATABASE_URL=postgresql+psycopg://… or serve with --workers 1"
        )
    return None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TOWNSQUARE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TOWNSQUARE_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes on the one port (more than 1 needs NATS and PostgreSQL)."
        ),
    ] = 1,
) -> None:
    """Serve the web pages, the API and the feeds."""
    import uvicorn

    from townsquare.app import create_app

    settings = configured()
    served: Any = "townsquare.cli:serving_app"
    try:
        if refused := workers_refused(settings, workers):
            raise ConfigurationError(refused)
        if workers == 1:
            served = create_app(settings)
        else:
            check_shared(settings)  # each worker would stop on it: say it once, here
    except ConfigurationError as exc:
        fail(exc)
    uvicorn.run(
        served,
        factory=workers > 1,
        workers=workers,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,  # the app writes its own, privacy-safe (townsquare.http.access)
        proxy_headers=False,  # the app's TOWNSQUARE_TRUSTED_PROXIES decides, not 127.0.0.1
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest migration."""
    settings = configured()
    runner.upgrade(make_engine(settings.resolved_database_url()))
    typer.echo("database is at the latest revision")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrated schema disagree."""
    settings = configured()
    diffs = runner.pending_differences(make_engine(settings.resolved_database_url()))
    for diff in diffs:
        typer.echo(f"differs: {diff}", err=True)
    if diffs:
        raise typer.Exit(1)
    typer.echo("models and migrations agree")


if __name__ == "__main__":
    app()
