"""post lifecycle: published posts close after a policy period; authors close and delete

A published post now records when it was first published, closes `retention.post_open_days`
later (state `closed`), and its exact point then expires with `closed_post_point_days`.
Posts published before this revision take their last update as their publication time.
Audit entries record the actor's roles, so the access log names the reader's real role.

Revision ID: 0011_post_lifecycle
Revises: 0010_media_jobs
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0011_post_lifecycle"
down_revision: str | None = "0010_media_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = "state IN ('pending', 'published', 'rejected', 'removed')"
NEW_STATES = "state IN ('pending', 'published', 'closed', 'rejected', 'removed')"


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "published_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="first published; the post closes retention.post_open_days later "
                "(edits too)",
            )
        )
        batch_op.alter_column(
            "closed_at",
            existing_type=townsquare.db.UTCDateTime(timezone=True),
            existing_nullable=True,
            comment="closed, rejected or removed: the exact point expires from here",
            existing_comment="rejected or removed: the exact point expires from here",
        )
        batch_op.drop_constraint(op.f("ck_post_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_post_state_known"), NEW_STATES)
        batch_op.create_index("ix_post_state_published", ["state", "published_at"], unique=False)
    op.execute("UPDATE post SET published_at = updated_at WHERE state = 'published'")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "actor_roles",
                sa.JSON(none_as_null=True),
                nullable=True,
                comment="the actor's roles when it acted: the access log names the reader's role",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("actor_roles")
    # A closed post was published before: it goes back to that state, its point kept or gone.
    op.execute("UPDATE post SET state = 'published' WHERE state = 'closed'")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_state_published")
        batch_op.drop_constraint(op.f("ck_post_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_post_state_known"), OLD_STATES)
        batch_op.alter_column(
            "closed_at",
            existing_type=townsquare.db.UTCDateTime(timezone=True),
            existing_nullable=True,
            comment="rejected or removed: the exact point expires from here",
            existing_comment="closed, rejected or removed: the exact point expires from here",
        )
        batch_op.drop_column("published_at")
