"""post lifecycle: published posts close after a policy period; authors close and delete

Revision ID: 0011_post_lifecycle
Revises: 0010_media_jobs
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0011_post_lifecycle"
down_revision: str | None = "0010_media_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
