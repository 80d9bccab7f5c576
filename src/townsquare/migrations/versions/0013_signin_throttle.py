"""sign-in throttle: failures counted per client address and e-mail, not per account; tokens expire

An account is no longer locked by other people's wrong passwords: `signin_throttle` counts
failures per keyed digest of (client address, e-mail) and of the client address, so the
account's columns `failed_signins` and `locked_until` go. API tokens get `expires_at`;
tokens made before keep none and expire `api_token_days` after they were made.

SQLite drops the columns with its own ALTER TABLE DROP COLUMN (3.35+): no table rebuild, so
nothing cascades from `account`.

Revision ID: 0013_signin_throttle
Revises: 0012_subscription_covers
Create Date: 2026-12-07 18:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0013_signin_throttle"
down_revision: str | None = "0012_subscription_covers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", townsquare.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttle")),
    )
    op.add_column(
        "api_token",
        sa.Column(
            "expires_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=True,
            comment="made + api_token_days; none: made before tokens expired",
        ),
    )
    op.drop_column("account", "failed_signins")
    op.drop_column("account", "locked_until")


def downgrade() -> None:
    op.add_column(
        "account",
        sa.Column("locked_until", townsquare.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "account",
        sa.Column("failed_signins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_column("api_token", "expires_at")
    op.drop_table("signin_throttle")
