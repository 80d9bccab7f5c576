"""Both stores through one fixture: each test gets an empty, migrated store.

SQLite: a copy of a migrated template file. PostgreSQL: one migrated database per run,
emptied after each test. Real commits happen, so code that opens its own transactions and
threads is tested as it runs.
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

from townsquare.db import make_engine, make_sessionmaker
from townsquare.migrations import runner
from townsquare.migrations.tables import Base

POSTGRES_ENV = "TOWNSQUARE_TEST_POSTGRES_URL"
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


def empty_postgres(engine: Engine) -> None:
    """Remove every row a test left and restart the ids."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


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


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty migrated store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "townsquare.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    eng = make_engine(request.getfixturevalue("postgres_url"))
    yield eng
    empty_postgres(eng)
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory the code under test uses."""
    return make_sessionmaker(engine)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """The run's PostgreSQL store alone (for tests of several nodes), emptied afterwards."""
    eng = make_engine(postgres_url)
    yield eng
    empty_postgres(eng)
    eng.dispose()
