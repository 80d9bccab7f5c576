"""What every `townsquare` command shares: its settings with logging set up, the store it
opens and closes, and one way to fail with a message instead of a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from townsquare import logs
from townsquare.db import make_engine, make_sessionmaker
from townsquare.settings import Settings


def configured() -> Settings:
    """The settings from the environment, with logging configured as they say."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    return settings


@contextlib.contextmanager
def store(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions of the configured store; its connections close when the command ends."""
    engine = make_engine(settings.resolved_database_url())
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions of the configured store for a command whose process ends with it."""
    return make_sessionmaker(make_engine(settings.resolved_database_url()))


def fail(message: object, code: int = 1) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
