"""Downgrade steps that may run twice: SQLite does not roll DDL back when a later step fails,
so a downgrade retried after a refusal (0014's, say) finds part of its work already done."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def drop_columns(table: str, *columns: str) -> None:
    """Drop the columns that are still there, each with a plain DROP COLUMN.

    Not batch mode: on SQLite it rebuilds the table, and dropping the old one cascades to
    every row that refers to it (a subscription's channels and deliveries).
    """
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
    for column in columns:
        if column in present:
            op.drop_column(table, column)
