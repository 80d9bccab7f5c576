"""retention runs: what each run of the retention job deleted

Revision ID: 0002_retention_run
Revises: 0001
Create Date: 2026-11-28 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0002_retention_run"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "ran_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="the job's idea of now",
        ),
        sa.Column(
            "deleted",
            sa.JSON(),
            nullable=False,
            comment="rows deleted by kind, e.g. raw_records; counts only",
        ),
        sa.Column("total", sa.Integer(), nullable=False, comment="sum of deleted"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_run")),
    )


def downgrade() -> None:
    op.drop_table("retention_run")
