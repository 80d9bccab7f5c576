"""media job: clips are processed after the upload

Revision ID: 0010_media_jobs
Revises: 0009_weekly
Create Date: 2026-11-29 01:53:32.851308
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0010_media_jobs"
down_revision: str | None = "0009_weekly"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), server_default="ready", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "error",
                sa.String(length=300),
                nullable=True,
                comment="why the derivative could not be made, shown to the owner",
            )
        )
        batch_op.add_column(
            sa.Column(
                "claimed_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when a media job took the clip; a stale claim is taken over",
            )
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.alter_column(
            "public_key",
            existing_type=sa.VARCHAR(length=64),
            nullable=True,
            comment="SHA-256 of the derivative; null until it is made",
            existing_comment="SHA-256 of the derivative",
        )
        batch_op.alter_column("public_type", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.create_index(batch_op.f("ix_media_state"), ["state"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_media_state_known"), "state IN ('processing', 'ready', 'failed')"
        )


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_media_state_known"), type_="check")
        batch_op.drop_index(batch_op.f("ix_media_state"))
        batch_op.alter_column("public_type", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column(
            "public_key",
            existing_type=sa.VARCHAR(length=64),
            nullable=False,
            comment="SHA-256 of the derivative",
            existing_comment="SHA-256 of the derivative; null until it is made",
        )
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("error")
        batch_op.drop_column("state")
