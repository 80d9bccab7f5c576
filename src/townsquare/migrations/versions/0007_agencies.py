"""agencies: verified agencies (agency.verified_at) and push keys

agency.verified_at is the column the footage work needs too: it is created here, once,
because this revision came first; later revisions chain after this one.

Revision ID: 0007_agencies
Revises: 0005_residents
Create Date: 2026-11-28 10:53:32.807462
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0007_agencies"
down_revision: str | None = "0005_residents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "key_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the API key (X-Townsquare-Key)",
        ),
        sa.Column(
            "secret",
            sa.String(length=64),
            nullable=False,
            comment="private: HMAC key of X-Townsquare-Signature (needed in clear)",
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", townsquare.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= created_at", name=op.f("ck_push_key_revoked_later")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_push_key_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_push_key_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_push_key_key_hash")),
    )
    with op.batch_alter_table("push_key", schema=None) as batch_op:
        batch_op.create_index("ix_push_key_live", ["source_id", "revoked_at"], unique=False)

    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "verified_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when an operator confirmed it is the agency it says (footage)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_column("verified_at")

    with op.batch_alter_table("push_key", schema=None) as batch_op:
        batch_op.drop_index("ix_push_key_live")

    op.drop_table("push_key")
