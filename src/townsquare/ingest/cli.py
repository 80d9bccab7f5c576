"""`townsquare ingest`, `townsquare replay` and `townsquare sources ...`: feeds by hand."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from townsquare.commands import configured, fail, sessions, store
from townsquare.db import make_engine, transaction, utcnow
from townsquare.errors import TownsquareError, out_of_space
from townsquare.ingest import check as ingest_check
from townsquare.ingest import health as ingest_health
from townsquare.ingest import reprocess as ingest_reprocess
from townsquare.ingest import service as ingest_service
from townsquare.ingest.config import SourceConfig, load_source_config
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.scheduler import Scheduler, stored_configs
from townsquare.ingest.sources.registry import adapter_for
from townsquare.migrations import runner
from townsquare.places.service import geocoder_for
from townsquare.settings import Settings

sources_app = typer.Typer(help="Feed sources.", no_args_is_help=True)
ConfigArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Source TOML file.")]


def _load(config_path: Path) -> SourceConfig:
    try:
        return load_source_config(config_path)
    except TownsquareError as exc:
        fail(exc, 2)


def _cause(exc: BaseException) -> str:
    """The driver's or the OS's own words, on one line."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def ready_store(settings: Settings) -> None:
    """Bring the embedded SQLite store to the latest schema; a PostgreSQL one must be already.

    A fresh SQLite file is created and migrated here, so `ingest` works on first use; a
    PostgreSQL schema is upgraded only by the operator (`townsquare db upgrade`).
    """
    engine = make_engine(settings.resolved_database_url())
    try:
        script = ScriptDirectory.from_config(
            runner.alembic_config(engine.url.render_as_string(hide_password=False))
        )
        with engine.connect() as connection:  # read directly: alembic logs each context
            current: set[str] = set()
            if inspect(connection).has_table("alembic_version"):
                current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
        if current == set(script.get_heads()):
            return
        if engine.dialect.name == "sqlite":
            runner.upgrade(engine)
            return
        fail("the database schema is not at the latest revision: run `townsquare db upgrade` first")
    finally:
        engine.dispose()


def ingest(config: ConfigArg) -> None:
    """Fetch a source once and store what it holds (again: nothing new is created)."""
    settings = configured()
    source = _load(config)
    ready_store(settings)
    try:
        with store(settings) as factory:  # its connections close even when it fails
            report = ingest_service.ingest(factory, source, geocoder=geocoder_for(settings))
    except TownsquareError as exc:
        fail(exc)
    except (OSError, OperationalError) as exc:
        if not out_of_space(exc):
            raise
        fail(
            f"{source.slug}: the store could not be written ({_cause(exc)}): the disk is full; "
            "every batch stored before is kept; run this again once there is room"
        )
    typer.echo(report.summary())
    for line in report.unreadable:
        typer.echo(f"quarantined {line}")
    if report.received and report.unchanged == report.received:
        typer.echo("nothing new: every record was already stored")


def compress_to_now(last: datetime, now: datetime, speed: float) -> ingest_service.Retime:
    """Map sample time onto the recent past: `last` becomes now, gaps shrink `speed` times."""

    def retime(moment: datetime) -> datetime:
        return now - (last - moment) / speed

    return retime


def replay(
    config: ConfigArg,
    speed: Annotated[
        float, typer.Option(min=1.0, help="Time compression: 60 = an hour a minute.")
    ] = 1.0,
) -> None:
    """Re-publish a source's records with times shifted so the newest one is now."""
    settings = configured()
    source = _load(config)
    times = []
    for item in adapter_for(source.kind).fetch(source):
        try:
            times.append(normalize(item, source).occurred_at)
        except NormalizeError:
            continue  # counted as quarantined by the ingest run below
    if not times:
        fail("no record of this source has a usable time")
    now = utcnow()
    retime = compress_to_now(max(times), now, speed)
    ready_store(settings)
    factory = sessions(settings)
    report = ingest_service.ingest(
        factory, source, now=now, retime=retime, geocoder=geocoder_for(settings)
    )
    span = (max(times) - min(times)) / speed
    typer.echo(report.summary())
    typer.echo(f"replayed onto the last {span / timedelta(hours=1):.1f} h")


@sources_app.command("list")
def sources_list() -> None:
    """Each source with its health: state, lag, failures, record counts, unknown call types."""
    settings = configured()
    factory = sessions(settings)
    with factory() as session:
        rows = ingest_health.list_sources(session)
    if not rows:
        typer.echo("no sources yet: run `townsquare ingest CONFIG.toml`")
    now = utcnow()
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in row.counts.items())
        ok = row.last_success_at.isoformat() if row.last_success_at else "never"
        lag = row.lag_s(now)
        typer.echo(
            f"{row.slug} ({row.kind}) {row.name}: {row.state(now)}; {row.incidents} incidents; "
            f"records: {counts}; last success {ok}"
            + (f" ({lag:.0f} s ago)" if lag is not None else "")
            + (f"; {row.unknown_types} unknown call types" if row.unknown_types else "")
        )
        if row.last_error:
            typer.echo(f"  last error at {row.last_error_at}: {row.last_error}")
        if row.failures:
            until = row.circuit_open_until
            typer.echo(
                f"  {row.failures} failures in a row"
                + (f"; circuit open until {until.isoformat()}" if until and until > now else "")
            )


@sources_app.command("unknown-types")
def sources_unknown_types(
    name: Annotated[str, typer.Argument(help="The source's slug.")],
) -> None:
    """Call types of a source its mapping does not know (held back from alerts until mapped)."""
    settings = configured()
    factory = sessions(settings)
    try:
        with factory() as session:
            found = ingest_health.unknown_types(session, name)
    except TownsquareError as exc:
        fail(exc)
    if not found:
        typer.echo(f"{name}: every call type is mapped")
    for call_type, count in found:
        typer.echo(f"{count:6d}  {call_type}")


@sources_app.command("add")
def sources_add(config: ConfigArg) -> None:
    """Register a source without fetching it (push sources receive records this way)."""
    settings = configured()
    source = _load(config)
    ready_store(settings)
    factory = sessions(settings)
    with transaction(factory) as session:
        ingest_service.ensure_source(session, source)
    typer.echo(f"{source.slug}: registered")


@sources_app.command("check")
def sources_check(
    config: ConfigArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the documented JSON.")] = False,
    limit: Annotated[
        int, typer.Option(min=0, help="Read at most N records (0: every record).")
    ] = 100,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Read this file instead of `location`."),
    ] = None,
) -> None:
    """Dry run: how each record would be normalized, withheld or quarantined; stores nothing."""
    source = _load(config)
    if file is not None:
        source = source.model_copy(update={"location": str(file.resolve())})
    geocoder = geocoder_for(configured()) if source.fields.geocodes() else None
    try:
        report = ingest_check.check_items(
            source,
            adapter_for(source.kind).fetch(source),
            now=utcnow(),
            limit=limit or None,
            geocoder=geocoder,
        )
    except TownsquareError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(ingest_check.as_json(report), ensure_ascii=False, indent=2))
        return
    for line in ingest_check.as_text(report):
        typer.echo(line)


@sources_app.command("run")
def sources_run(
    configs: Annotated[
        list[Path] | None,
        typer.Argument(exists=True, dir_okay=False, help="Source TOML files (default: stored)."),
    ] = None,
) -> None:
    """Poll sources at their intervals until interrupted (a worker beside `serve`)."""
    settings = configured()
    ready_store(settings)
    factory = sessions(settings)
    chosen = [_load(path) for path in configs] if configs else stored_configs(factory)
    if not chosen:
        typer.echo("no source to poll: give CONFIG.toml files or set poll_interval_s")
        raise typer.Exit(1)
    scheduler = Scheduler(factory, chosen, geocoder=geocoder_for(settings))
    stop = threading.Event()
    typer.echo(f"polling {len(chosen)} sources; Ctrl-C stops")
    try:
        scheduler.run(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        scheduler.close()


@sources_app.command("reprocess")
def sources_reprocess(
    name: Annotated[str, typer.Argument(help="The source's slug.")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            exists=True,
            dir_okay=False,
            help="The fixed TOML file (default: the configuration last ingested).",
        ),
    ] = None,
    regeocode: Annotated[
        bool,
        typer.Option(
            "--regeocode",
            help="Ask the geocoder again for addresses it could not place at an accepted "
            "precision (after loading address points).",
        ),
    ] = False,
) -> None:
    """Re-normalize a source's stored raw records (quarantined ones too) after a mapping fix."""
    settings = configured()
    ready_store(settings)
    try:
        with store(settings) as factory:
            if config is None:
                with factory() as session:
                    source = ingest_reprocess.stored_config(session, name)
            else:
                source = _load(config)
                if source.slug != name:
                    fail(f"{config} is the file of {source.slug!r}, not {name!r}", 2)
            report = ingest_reprocess.reprocess(
                factory, source, geocoder=geocoder_for(settings), regeocode=regeocode
            )
    except TownsquareError as exc:
        fail(exc)
    typer.echo(report.summary())
