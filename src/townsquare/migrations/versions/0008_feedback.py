"""feedback: readers' verdicts on alerts (not useful, inaccurate), one per reader

Revision ID: 0008_feedback
Revises: 0006_footage
Create Date: 2026-11-28 13:19:32.318362
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0008_feedback"
down_revision: str | None = "0006_footage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column(
            "voter", sa.String(length=64), nullable=False, comment="private: HMAC of the reader"
        ),
        sa.Column("signed_in", sa.Boolean(), nullable=False, comment="voted with an account"),
        sa.Column(
            "rate_key",
            sa.String(length=64),
            nullable=True,
            comment="private: HMAC of (IP, day) for anonymous readers' rate limit",
        ),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "verdict IN ('not_useful', 'inaccurate')",
            name=op.f("ck_incident_feedback_verdict_known"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_feedback_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_feedback")),
        sa.UniqueConstraint(
            "incident_id", "voter", name=op.f("uq_incident_feedback_incident_id_voter")
        ),
    )
    with op.batch_alter_table("incident_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_feedback_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index("ix_incident_feedback_rate", ["rate_key", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_feedback_rate")
        batch_op.drop_index(batch_op.f("ix_incident_feedback_incident_id"))

    op.drop_table("incident_feedback")
