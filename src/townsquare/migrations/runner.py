"""Alembic driven from code, so `townsquare db upgrade` works from an installed package."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from townsquare.migrations.tables import Base


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and `url`."""
    config = Config()
    config.set_main_option("script_location", "townsquare:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to `revision` on `engine`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def pending_differences(engine: Engine) -> list[object]:
    """Differences between the models and the migrated schema; empty when they agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
