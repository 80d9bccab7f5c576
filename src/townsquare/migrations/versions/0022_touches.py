"""the language of mail sent later: account.language, alert_subscription.language

Mail composed while answering a request speaks the request's language; a weekly digest or a
footage request is composed later, by the server, so the language the person used when they
signed up or subscribed is kept with them ('en' or 'es'; none for rows made before).

Revision ID: 0022_touches
Revises: 0015_shared_media
Create Date: 2026-12-07 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from townsquare.migrations.steps import drop_columns

revision: str = "0022_touches"
down_revision: str | None = "0023_cap2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENT = "language of the mail sent later ('en', 'es'); none: English"
TABLES = ("account", "alert_subscription")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("language", sa.String(8), nullable=True, comment=COMMENT))


def downgrade() -> None:
    for table in TABLES:
        drop_columns(table, "language")
