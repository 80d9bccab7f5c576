"""Both stores through one fixture: each test gets an empty, migrated store.

SQLite: a copy of a migrated template file. PostgreSQL: one migrated database per run,
emptied after each test, of the tables it wrote to only (`PostgresEmptier`). Real commits
happen, so code that opens its own transactions and threads is tested as it runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from townsquare import sealing
from townsquare.db import make_engine, make_sessionmaker
from townsquare.migrations import runner
from townsquare.migrations.tables import Base

POSTGRES_ENV = "TOWNSQUARE_TEST_POSTGRES_URL"
STORE_SECRET = b"test secret"
"""Seals the store's secret columns; the same as the tests' usual `secret_key`, so a server
made from their settings opens what a test wrote through the fixture's engine."""
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction on the server's maintenance database."""
    engine = make_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


class PostgresEmptier:
    """Empties a PostgreSQL store after a test: only the tables the test wrote to.

    TRUNCATE of every table gives each one (and its indexes) new files, whatever the test
    wrote; most tests write a few rows to a handful of tables. One probe lists the tables that
    hold rows (how many, up to `BULK`) or whose id sequence moved; one DO block deletes their
    rows, children first, and restarts their sequences, so the next test sees the store as
    migrated, ids from 1. DELETE costs by the row: after a test that stored thousands, one
    TRUNCATE of the written tables is the cheaper way. bench/test_isolation.py measures them.
    """

    BULK = 1000

    def __init__(self, engine: Engine) -> None:
        self.order = [t.name for t in reversed(Base.metadata.sorted_tables)]  # children first
        with engine.connect() as connection:
            owned = connection.execute(
                text(
                    "SELECT s.relname, t.relname FROM pg_class s"
                    " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
                    " AND d.refclassid = 'pg_class'::regclass"
                    " JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S'"
                    " AND s.relnamespace = current_schema()::text::regnamespace"
                )
            )
            self.table_of = {sequence: table for sequence, table in owned}
        self.sequences_of: dict[str, list[str]] = {}
        for sequence, table in self.table_of.items():
            self.sequences_of.setdefault(table, []).append(sequence)
        self.probe = text(
            " UNION ALL ".join(
                [
                    f"SELECT '{name}', (SELECT count(*) FROM (SELECT FROM {name} LIMIT {self.BULK})"
                    f" AS s) WHERE EXISTS (SELECT FROM {name})"
                    for name in self.order
                ]
                + [
                    "SELECT sequencename::text, 0 FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                ]
            )
        )

    def written(self, engine: Engine) -> dict[str, int]:
        """The tables holding rows (how many, up to `BULK`), or whose ids a test used."""
        found: dict[str, int] = {}
        with engine.connect() as connection:
            for name, rows in connection.execute(self.probe):
                table = self.table_of.get(name, name)
                found[table] = max(found.get(table, 0), rows)
        return found

    def empty(self, engine: Engine) -> None:
        """Delete every row a test left and restart the ids it used."""
        written = self.written(engine)
        if not written:
            return
        if max(written.values()) >= self.BULK:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE"
                )
            return
        steps = [f"DELETE FROM {name};" for name in self.order if name in written]
        steps += [
            f"PERFORM setval('{sequence}', 1, false);"
            for name in written
            for sequence in self.sequences_of.get(name, [])
        ]
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DO $$ BEGIN {' '.join(steps)} END $$")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    runner.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this run alone, or a skip that says why there is none.

    The database is named after the one in TOWNSQUARE_TEST_POSTGRES_URL plus this process id,
    so concurrent runs (and xdist workers) on one server never see each other's rows.
    """
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (make test and .ci/run set it)")
    name = f"{make_url(base).database or 'townsquare_test'}_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    except Exception as exc:  # unreachable server: report it as a skip with the reason
        pytest.skip(f"PostgreSQL at {make_url(base).render_as_string()} unreachable: {exc}")
    engine = make_engine(url)
    runner.upgrade(engine)
    engine.dispose()
    yield url
    admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_emptier(postgres_url: str) -> PostgresEmptier:
    """What empties the run's PostgreSQL store after each test."""
    engine = make_engine(postgres_url)
    try:
        return PostgresEmptier(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty migrated store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "townsquare.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        sealing.bind(eng, STORE_SECRET)
        yield eng
        eng.dispose()
        return
    emptier: PostgresEmptier = request.getfixturevalue("postgres_emptier")
    eng = make_engine(request.getfixturevalue("postgres_url"))
    sealing.bind(eng, STORE_SECRET)
    yield eng
    emptier.empty(eng)
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory the code under test uses."""
    return make_sessionmaker(engine)


@pytest.fixture
def pg_engine(postgres_url: str, postgres_emptier: PostgresEmptier) -> Iterator[Engine]:
    """The run's PostgreSQL store alone (for tests of several nodes), emptied afterwards."""
    eng = make_engine(postgres_url)
    yield eng
    postgres_emptier.empty(eng)
    eng.dispose()
