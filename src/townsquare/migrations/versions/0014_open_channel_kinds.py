"""open channel kinds: alert_channel.kind is any registered channel, not a fixed list

Channel kinds register through the `townsquare.alert_channels` entry points (a third-party
package may add one), and requests are checked against that registry; the CHECK that named
email, webpush and webhook is dropped so the store does not keep a second list.

On SQLite, dropping a constraint rebuilds the table, and dropping the old table cascades to
the rows that refer to it (foreign keys are on, and cannot be turned off inside the
migration's transaction): the deliveries and the weekly digest log are read first and put
back. A downgrade refuses while channels of other kinds exist, rather than delete them.

Revision ID: 0014_open_channel_kinds
Revises: 0013_signin_throttle
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014_open_channel_kinds"
down_revision: str | None = "0013_signin_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUILT_IN = "kind IN ('email', 'webpush', 'webhook')"
CHILDREN = ("alert_delivery", "weekly_digest")
"""Tables whose rows a rebuild of alert_channel cascades away on SQLite."""


def _kept(bind: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    if bind.dialect.name != "sqlite":
        return {}
    return {
        name: [dict(r._mapping) for r in bind.execute(sa.select(_reflected(bind, name)))]
        for name in CHILDREN
    }


def _reflected(bind: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def _put_back(bind: sa.Connection, kept: dict[str, list[dict[str, Any]]]) -> None:
    for name in CHILDREN:
        rows = kept.get(name)
        if rows:
            table = _reflected(bind, name)
            bind.execute(sa.delete(table))
            bind.execute(sa.insert(table), rows)


def upgrade() -> None:
    bind = op.get_bind()
    kept = _kept(bind)
    with op.batch_alter_table("alert_channel", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_alert_channel_kind_known"), type_="check")
    _put_back(bind, kept)


def downgrade() -> None:
    bind = op.get_bind()
    others = sa.text(
        "SELECT DISTINCT kind FROM alert_channel "
        "WHERE kind NOT IN ('email', 'webpush', 'webhook') ORDER BY kind"
    )
    found = list(bind.execute(others).scalars())
    if found:
        raise RuntimeError(
            f"alert channels of kinds {', '.join(found)} exist; the schema before "
            "0014_open_channel_kinds cannot hold them: delete those channels first"
        )
    kept = _kept(bind)
    with op.batch_alter_table("alert_channel", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_alert_channel_kind_known"), BUILT_IN)
    _put_back(bind, kept)
