"""What every `townsquare` command shares: its settings with logging set up, the store it
opens and closes, and one way to fail with a message instead of a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from townsquare import logs, sealing
from townsquare.db import make_engine, make_sessionmaker
from townsquare.deployment import ConfigurationError, check_shared, load
from townsquare.settings import Settings


def configured() -> Settings:
    """The settings from the environment, with logging configured as they say.

    A bad setting ends the command with one line naming its variable, not a traceback.
    """
    try:
        settings = load()
    except ConfigurationError as exc:
        fail(exc)
    logs.configure(settings.log_level, settings.log_json)
    return settings


@contextlib.contextmanager
def store(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions of the configured store; its connections close when the command ends.

    A node of several that would not share its secret key or media storage stops here.
    """
    try:
        check_shared(settings)
    except ConfigurationError as exc:
        fail(exc)
    engine = make_engine(settings.resolved_database_url())
    sealing.bind(engine, sealing.server_secret(settings))
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions of the configured store for a command whose process ends with it."""
    engine = make_engine(settings.resolved_database_url())
    sealing.bind(engine, sealing.server_secret(settings))
    return make_sessionmaker(engine)


def fail(message: object, code: int = 1) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
