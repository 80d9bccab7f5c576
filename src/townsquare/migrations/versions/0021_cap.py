"""CAP alerts: a source record's own severity and its expiry time

`source_record.severity`: the severity a CAP alert gives itself (urgency, severity and
certainty on our 1..5 scale); null keeps the category's. `source_record.expires_at`: CAP
`expires`; housekeeping closes the record once it has passed.

Revision ID: 0021_cap
Revises: 0018_alerts_journey
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db
from townsquare.migrations.steps import drop_columns

revision: str = "0021_cap"
down_revision: str | None = "0018_alerts_journey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_record") as batch:
        batch.add_column(
            sa.Column(
                "severity",
                sa.Integer(),
                nullable=True,
                comment="the record's own severity 1..5 (CAP alerts); null: the category's",
            )
        )
        batch.add_column(
            sa.Column(
                "expires_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="closed at this time once it passes (CAP expires)",
            )
        )


def downgrade() -> None:
    drop_columns("source_record", "expires_at", "severity")
