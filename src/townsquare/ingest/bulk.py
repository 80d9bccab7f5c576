"""The new rows of a batch written in a few statements, not one INSERT per row.

A batch of a thousand records makes up to a thousand raw records, source records and
incidents. Added to the session, the ORM inserts them one statement per row (it needs each
new id back, in order, and SQLite gives no order it can trust for a multi-row RETURNING);
most of a batch's time went there. Here the new rows stay out of the session while the
lifecycle decides them, then each table gets one executemany. The ids of new incidents are
read back by their unique (source, external id); raw and source records need none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Table, insert, select
from sqlalchemy.orm import Session

from townsquare.db import Base
from townsquare.incidents.models import Incident

_Row = TypeVar("_Row", bound=Base)
CHUNK = 1000
"""Ids per IN list (well under SQLite's and PostgreSQL's limits on parameters)."""


def fresh(model: type[_Row], values: dict[str, Any]) -> _Row:
    """A new row kept out of the session, its values set without attribute events.

    Setting a mapped attribute records history for the next flush (about a microsecond
    each, twenty per row); a row `insert_rows` writes is never flushed, so it needs none.
    Later changes go through the attributes as usual.
    """
    row = model()
    row.__dict__.update(values)
    return row


def assign(row: Base, values: dict[str, Any]) -> None:
    """Set the values that differ: a row stored again unchanged (a snapshot) stays clean."""
    held = row.__dict__
    for name, value in values.items():
        if name not in held or held[name] != value:
            setattr(row, name, value)


def insert_rows(session: Session, rows: Sequence[Base]) -> None:
    """Insert rows that were never added to the session, in their order (one statement)."""
    if not rows:
        return
    table = Base.metadata.tables[rows[0].__tablename__]
    keys = [column.key for column in table.columns if column.key != "id"]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, keys, [[row.__dict__.get(k) for k in keys] for row in rows])
        return
    values = [{key: row.__dict__.get(key) for key in keys} for row in rows]
    session.execute(insert(table), values)


def _copy_rows(
    connection: Connection, table: Table, keys: list[str], rows: list[list[Any]]
) -> None:
    """PostgreSQL's COPY, in the session's transaction: an INSERT per row costs a round trip
    in executemany; each value passes the column type's own conversion first (UTC times)."""
    dialect = connection.dialect
    convert: list[Callable[[Any], Any] | None] = []
    for key in keys:
        kind = table.c[key].type
        if isinstance(kind, JSON):
            convert.append(lambda value: None if value is None else json.dumps(value))
        else:
            convert.append(kind.bind_processor(dialect))
    names = ", ".join(dialect.identifier_preparer.quote(key) for key in keys)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([v if f is None else f(v) for f, v in zip(convert, row, strict=True)])


def insert_incidents(session: Session, source_id: int, incidents: Sequence[Incident]) -> None:
    """Insert a source's new incidents and give each object its id."""
    insert_rows(session, incidents)
    by_external = {incident.external_id: incident for incident in incidents}
    for chunk in _chunks(list(by_external)):
        found = session.execute(
            select(Incident.id, Incident.external_id).where(
                Incident.source_id == source_id, Incident.external_id.in_(chunk)
            )
        )
        for incident_id, external_id in found:
            by_external[external_id].id = incident_id


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
