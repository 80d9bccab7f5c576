"""public media: index media.public_key, by which anyone fetches an approved post's photo

The public URL of a derivative is the SHA-256 of its bytes (it names no media id, post or
author); each request finds its row by that key, then the posts holding it
(post_media.media_id). Every feed page finds the posts of its resident incidents, for their
media and corroboration (post.incident_id).

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


INDEXES = (
    ("media", "ix_media_public_key", "public_key"),
    ("post_media", "ix_post_media_media_id", "media_id"),
    ("post", "ix_post_incident_id", "incident_id"),
)


def upgrade() -> None:
    """Index the derivative's key, the posts of a medium and the post of an incident."""
    for table, name, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade() -> None:
    """Drop the indexes (if there: SQLite does not roll DDL back when a later step fails)."""
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table, if_exists=True)
