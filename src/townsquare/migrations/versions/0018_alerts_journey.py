"""alert VAPID key: the server's Web Push key pair, made on first start, shared by every node

`alert_vapid_key` holds one row: the first node to start writes a new P-256 key pair (the
private key sealed with a key outside the database, sealing.py), every other node reads it,
so browsers subscribed through any node get pushes signed by any other. TOWNSQUARE_VAPID_*
settings, when given, win over it.

Revision ID: 0018_alerts_journey
Revises: 0015_shared_media
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0018_alerts_journey"
down_revision: str | None = "0017_public_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_vapid_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "private_key",
            sa.String(length=255),
            nullable=False,
            comment="private: raw P-256 scalar, base64url; sealed (sealing.py)",
        ),
        sa.Column(
            "public_key",
            sa.String(length=100),
            nullable=False,
            comment="uncompressed P-256 point, base64url; handed to browsers",
        ),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_alert_vapid_key_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_vapid_key")),
    )


def downgrade() -> None:
    op.drop_table("alert_vapid_key", if_exists=True)  # SQLite keeps DDL of a failed downgrade
