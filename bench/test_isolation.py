"""What it costs to give each test an empty, migrated store, by backend and by method.

Every round writes what a typical test writes (an agency, three incidents and their outbox
events, committed for real), then empties the store the way the method does. It prints the
median and the 90th percentile of the emptying alone, per method:

    TOWNSQUARE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/townsquare_test \
        PYTHONPATH=src python bench/test_isolation.py [rounds]

SQLite is always measured; PostgreSQL when the variable names a reachable server. The methods
are those of tests/support/store.py (the one the suite uses) and the ones it replaced.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import factories
from tests.support.store import PostgresEmptier, admin

from townsquare.db import make_engine, make_sessionmaker, transaction
from townsquare.migrations import runner
from townsquare.migrations.tables import Base

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def write_some(engine: Engine) -> None:
    """What a typical test commits: an agency, three incidents, their outbox events."""
    with transaction(make_sessionmaker(engine)) as session:
        agency = factories.agency(session)
        for step in range(3):
            factories.incident(
                session, lat=47.61 + step / 100, lon=-122.33, occurred_at=WHEN, agency_id=agency.id
            )


def timed(rounds: int, write: Callable[[], None], empty: Callable[[], None]) -> list[float]:
    """Milliseconds each `empty()` took after a `write()`."""
    spent = []
    for _ in range(rounds):
        write()
        start = time.perf_counter()
        empty()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def show(name: str, spent: list[float]) -> None:
    """One line of figures."""
    p90 = statistics.quantiles(spent, n=10)[-1]
    print(f"  {name:<50} median {statistics.median(spent):6.1f} ms   p90 {p90:6.1f} ms")


def sqlite_rounds(rounds: int, folder: Path) -> None:
    """SQLite: a fresh copy of a migrated template file per test (setup and disposal)."""
    template = folder / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    runner.upgrade(engine)
    engine.dispose()
    print("sqlite")
    state: dict[str, Engine] = {}

    def fresh() -> None:
        path = folder / "test.db"
        shutil.copy(template, path)
        state["engine"] = make_engine(f"sqlite:///{path}")

    fresh()

    def copy_again() -> None:
        state["engine"].dispose()
        fresh()

    show("copy the template file", timed(rounds, lambda: write_some(state["engine"]), copy_again))
    state["engine"].dispose()


def postgres_rounds(rounds: int, base: str) -> None:
    """PostgreSQL: the methods measured against one migrated database."""
    name = f"{make_url(base).database or 'townsquare_test'}_bench_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    runner.upgrade(engine)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    print(f"postgresql ({len(Base.metadata.sorted_tables)} tables)")
    try:

        def truncate_all() -> None:
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

        show(
            "TRUNCATE every table (before)", timed(rounds, lambda: write_some(engine), truncate_all)
        )
        emptier = PostgresEmptier(engine)

        def truncate_written() -> None:
            written = ", ".join(emptier.written(engine))  # the table names
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {written} RESTART IDENTITY CASCADE"))

        show(
            "TRUNCATE the written tables only",
            timed(rounds, lambda: write_some(engine), truncate_written),
        )
        show(
            "DELETE the written tables, reset their ids (now)",
            timed(rounds, lambda: write_some(engine), lambda: emptier.empty(engine)),
        )
        show(
            "... when the test wrote nothing",
            timed(rounds, lambda: None, lambda: emptier.empty(engine)),
        )
        copy = f"{name}_copy"
        engine.dispose()

        def from_template() -> None:
            admin(
                base,
                f'DROP DATABASE IF EXISTS "{copy}"',
                f'CREATE DATABASE "{copy}" TEMPLATE "{name}"',
            )

        show(
            "CREATE DATABASE ... TEMPLATE (drop, create)",
            timed(max(rounds // 5, 3), lambda: None, from_template),
        )
    finally:
        engine.dispose()
        admin(base, f'DROP DATABASE IF EXISTS "{name}_copy" WITH (FORCE)')
        admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Measure on SQLite, then on PostgreSQL when configured."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as folder:
        sqlite_rounds(rounds, Path(folder))
    base = os.environ.get("TOWNSQUARE_TEST_POSTGRES_URL")
    if base:
        postgres_rounds(rounds, base)
    else:
        print("postgresql: skipped (set TOWNSQUARE_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
