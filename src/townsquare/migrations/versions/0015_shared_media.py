"""shared media and sealed secrets: media_chunk, and room for sealed secret columns

`media_chunk` keeps media in the database the nodes share (TOWNSQUARE_MEDIA_STORAGE=database).
Two-factor seeds, push-key and webhook secrets are now sealed with a key outside the
database (townsquare/sealing.py); a sealed value is longer, so their columns widen to 255.
Alert channel targets (addresses, webhook URLs, push subscriptions and their keys) are sealed
whole in their JSON column.
Rows written before stay readable as they are and are sealed when next written.

SQLite does not enforce a VARCHAR length, and changing a column's type would rebuild its
table (which cascades to the rows that refer to it): the declared type is rewritten in the
schema instead, which leaves the stored rows untouched.

Revision ID: 0015_shared_media
Revises: 0014_open_channel_kinds
Create Date: 2026-12-07 20:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_shared_media"
down_revision: str | None = "0014_open_channel_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = (
    # table, column, old length, nullable, old comment, new comment
    (
        "account",
        "totp_secret",
        64,
        True,
        "private; base32",
        "private; base32, sealed with a key outside the database",
    ),
    (
        "push_key",
        "secret",
        64,
        False,
        "private: HMAC key of X-Townsquare-Signature (needed in clear)",
        "private: HMAC key of X-Townsquare-Signature, sealed (sealing.py)",
    ),
    (
        "alert_channel",
        "secret",
        100,
        True,
        "webhook signing key (HMAC-SHA256), shown to the owner once",
        "webhook signing key (HMAC-SHA256), shown to the owner once; sealed",
    ),
)


def _declare(table: str, column: str, old: int, new: int) -> None:
    """Rewrite a column's declared length in SQLite's schema (its rows do not change)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new)"
            " WHERE type = 'table' AND name = :table"
        ),
        {"old": f"{column} VARCHAR({old})", "new": f"{column} VARCHAR({new})", "table": table},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


TARGET_COMMENTS = (
    "address, URL or push subscription; private to the owner",
    "address, URL or push subscription and its keys; private, sealed",
)


def _widen(to_new: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:  # alert_channel.target is sealed whole, in the same JSON column
        was, becomes = TARGET_COMMENTS if to_new else TARGET_COMMENTS[::-1]
        op.alter_column(
            "alert_channel",
            "target",
            existing_type=sa.JSON(),
            existing_nullable=False,
            comment=becomes,
            existing_comment=was,
        )
    for table, column, old, nullable, old_comment, new_comment in WIDENED:
        before, after = (old, 255) if to_new else (255, old)
        if sqlite:
            _declare(table, column, before, after)
            continue
        op.alter_column(
            table,
            column,
            type_=sa.String(length=after),
            existing_type=sa.String(length=before),
            existing_nullable=nullable,
            comment=new_comment if to_new else old_comment,
            existing_comment=old_comment if to_new else new_comment,
        )


def upgrade() -> None:
    op.create_table(
        "media_chunk",
        sa.Column("key", sa.String(length=64), nullable=False, comment="SHA-256 of the blob"),
        sa.Column("seq", sa.Integer(), nullable=False, comment="0, 1, 2 ... in order"),
        sa.Column("data", sa.LargeBinary(), nullable=False, comment="private: media bytes"),
        sa.PrimaryKeyConstraint("key", "seq", name=op.f("pk_media_chunk")),
    )
    _widen(True)


def downgrade() -> None:
    _widen(False)
    op.drop_table("media_chunk")
