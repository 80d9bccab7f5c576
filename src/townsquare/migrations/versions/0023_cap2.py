"""CAP alerts: a source record's own public text

`source_record.summary`: what the record says itself (a CAP alert's headline and
description), scrubbed by the source's privacy policy; null for a record with no text of
its own, whose incident's summary is made from its fields.

Revision ID: 0023_cap2
Revises: 0021_cap
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from townsquare.migrations.steps import drop_columns

revision: str = "0023_cap2"
down_revision: str | None = "0021_cap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_record") as batch:
        batch.add_column(
            sa.Column(
                "summary",
                sa.Text(),
                nullable=True,
                comment="the record's own public text (CAP headline, description), scrubbed",
            )
        )


def downgrade() -> None:
    drop_columns("source_record", "summary")
