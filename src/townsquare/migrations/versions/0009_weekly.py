"""weekly digest log: one summary per e-mail channel per week

Revision ID: 0009_weekly
Revises: 0008_feedback
Create Date: 2026-11-28 13:36:19.796740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0009_weekly"
down_revision: str | None = "0008_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weekly_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "week",
            sa.String(length=8),
            nullable=False,
            comment="ISO week of the window's end in UTC, e.g. 2026-W48",
        ),
        sa.Column(
            "window_end",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="end of the week summed",
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", townsquare.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed')", name=op.f("ck_weekly_digest_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channel.id"],
            name=op.f("fk_weekly_digest_channel_id_alert_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_digest")),
        sa.UniqueConstraint("channel_id", "week", name=op.f("uq_weekly_digest_channel_id_week")),
    )


def downgrade() -> None:
    op.drop_table("weekly_digest")
