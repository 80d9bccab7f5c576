"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from townsquare.migrations import runner
from townsquare.migrations.tables import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert runner.pending_differences(engine) == []


def test_upgrade_is_idempotent_and_creates_every_table(engine: Engine) -> None:
    runner.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
