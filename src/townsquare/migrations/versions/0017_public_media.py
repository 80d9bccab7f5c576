"""public media: index media.public_key, by which anyone fetches an approved post's photo

The public URL of a derivative is the SHA-256 of its bytes (it names no media id, post or
author); each request finds its row by that key.

Revision ID: 0017_public_media
Revises: 0015_shared_media
Create Date: 2026-12-07 23:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_public_media"
down_revision: str | None = "0015_shared_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index the derivative's key."""
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index("ix_media_public_key", ["public_key"], unique=False)


def downgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_public_key")
