"""subscription covers: watch areas kept as H3 cells only; e-mail double opt-in

Each subscription's stored centre, radius or polygon is turned into its cover (the cells whose
centres lie in the shape, see `townsquare.alerts.cells`), then those columns are dropped: the
server no longer knows where a circle was centred. E-mail channels get a confirmation state;
channels that existed before are taken as confirmed (they were already being sent alerts, and
every mail from now on carries a one-click unsubscribe link).

On SQLite, dropping columns rebuilds the table, and dropping the old table cascades to the
rows that refer to it (foreign keys are on, and cannot be turned off inside the migration's
transaction): the channels, deliveries and weekly digest log are read first and put back.

Revision ID: 0012_subscription_covers
Revises: 0011_post_lifecycle
Create Date: 2026-12-07 15:20:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0012_subscription_covers"
down_revision: str | None = "0011_post_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHAPE_CHECK_SQL = {
    "radius_range": "area_kind != 'circle' OR (radius_m BETWEEN 100 AND 10000)",
    "area_kind_known": "area_kind IN ('circle', 'polygon')",
    "point_range": "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
}
CHILDREN = ("alert_channel", "alert_delivery", "weekly_digest")
"""Tables whose rows a rebuild of alert_subscription cascades away on SQLite (parents first)."""


def _cells_of(row: Any) -> tuple[int, ...]:
    from townsquare.alerts import cells
    from townsquare.alerts.cover import PolygonArea

    if row.area_kind == "circle" and row.radius_m is not None:
        return cells.circle_cells(float(row.lat), float(row.lon), float(row.radius_m))
    polygon = row.polygon
    if isinstance(polygon, str):
        import json

        polygon = json.loads(polygon)
    coordinates = (polygon or {}).get("coordinates") or []
    if not coordinates:  # no shape to speak of: the centre's neighbourhood, 100 m
        return cells.circle_cells(float(row.lat), float(row.lon), 100.0)
    rings = tuple(tuple((float(x), float(y)) for x, y in r) for r in coordinates)
    return cells.polygon_cells(PolygonArea(rings))


def _kept(bind: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """The child rows a SQLite table rebuild would cascade away (nothing to keep elsewhere)."""
    if bind.dialect.name != "sqlite":
        return {}
    return {
        t: [dict(r._mapping) for r in bind.execute(sa.select(_reflected(bind, t)))]
        for t in CHILDREN
    }


def _reflected(bind: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def _put_back(bind: sa.Connection, kept: dict[str, list[dict[str, Any]]]) -> None:
    for name in CHILDREN:
        rows = kept.get(name)
        if not rows:
            continue
        table = _reflected(bind, name)
        bind.execute(sa.delete(table))
        bind.execute(sa.insert(table), rows)


def _put_cells(bind: sa.Connection, covers: dict[int, tuple[int, ...]]) -> None:
    bind.execute(sa.text("DELETE FROM alert_cell"))
    rows = [{"s": s, "c": c} for s, found in covers.items() for c in found]
    if rows:
        bind.execute(
            sa.text("INSERT INTO alert_cell (subscription_id, cell) VALUES (:s, :c)"), rows
        )


def upgrade() -> None:
    from townsquare.alerts.cells import cover_key

    bind = op.get_bind()
    subs = bind.execute(
        sa.text(
            "SELECT id, area_kind, lat, lon, radius_m, polygon, created_at FROM alert_subscription"
        )
    ).all()
    covers = {int(row.id): _cells_of(row) for row in subs}

    with op.batch_alter_table("alert_subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cover_key",
                sa.String(length=64),
                nullable=True,
                comment="SHA-256 of the sorted cover cells: finds duplicates",
            )
        )
    for sub_id, found in covers.items():
        bind.execute(
            sa.text("UPDATE alert_subscription SET cover_key = :key WHERE id = :id"),
            {"key": cover_key(found), "id": sub_id},
        )
    kept = _kept(bind)
    with op.batch_alter_table("alert_channel", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirmed_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when the address confirmed; nothing is sent before",
            )
        )
        batch_op.add_column(
            sa.Column(
                "confirm_token_hash",
                sa.String(length=64),
                nullable=True,
                comment="SHA-256 hex of the mailed confirmation token",
            )
        )
        batch_op.add_column(
            sa.Column(
                "confirm_expires_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="the confirmation link works until then",
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_alert_channel_confirm_token_hash"), ["confirm_token_hash"]
        )
    with op.batch_alter_table("alert_cell", schema=None) as batch_op:
        batch_op.drop_column("inside")
    with op.batch_alter_table("alert_subscription", schema=None) as batch_op:
        for name in SHAPE_CHECK_SQL:
            batch_op.drop_constraint(batch_op.f(f"ck_alert_subscription_{name}"), type_="check")
        batch_op.alter_column("cover_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_alert_subscription_cover_key"), ["cover_key"], unique=False
        )
        for column in ("polygon", "radius_m", "lon", "lat", "area_kind"):
            batch_op.drop_column(column)

    _put_back(bind, kept)
    _put_cells(bind, covers)
    bind.execute(  # already being sent alerts: taken as confirmed (see the docstring)
        sa.text(
            "UPDATE alert_channel SET confirmed_at = (SELECT s.created_at FROM alert_subscription "
            "s WHERE s.id = alert_channel.subscription_id) WHERE confirmed_at IS NULL"
        )
    )


def downgrade() -> None:
    """Back to shapes: each cover becomes the circle of its centroid and size (the exact shape
    is gone for good), every cell counted as inside."""
    from townsquare.alerts.cells import centroid

    bind = op.get_bind()
    covers: dict[int, list[int]] = {}
    for sub_id, c in bind.execute(sa.text("SELECT subscription_id, cell FROM alert_cell")):
        covers.setdefault(int(sub_id), []).append(int(c))
    kept = _kept(bind)
    with op.batch_alter_table("alert_channel", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_alert_channel_confirm_token_hash"), type_="unique")
        batch_op.drop_column("confirm_expires_at")
        batch_op.drop_column("confirm_token_hash")
        batch_op.drop_column("confirmed_at")
    with op.batch_alter_table("alert_subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_kind", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("radius_m", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("polygon", sa.JSON(), nullable=True))
    for sub_id, found in covers.items():
        lat, lon, radius = centroid(tuple(found))
        bind.execute(
            sa.text(
                "UPDATE alert_subscription SET area_kind = 'circle', lat = :lat, lon = :lon, "
                "radius_m = :radius WHERE id = :id"
            ),
            {"lat": lat, "lon": lon, "radius": min(max(radius, 100.0), 10_000.0), "id": sub_id},
        )
    with op.batch_alter_table("alert_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscription_cover_key"))
        batch_op.drop_column("cover_key")
        for column in ("area_kind", "lat", "lon"):
            batch_op.alter_column(column, nullable=False)
        for name, condition in SHAPE_CHECK_SQL.items():
            batch_op.create_check_constraint(batch_op.f(f"ck_alert_subscription_{name}"), condition)
    with op.batch_alter_table("alert_cell", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inside", sa.Boolean(), nullable=True))
    for row in kept.get("alert_channel", []):
        for gone in ("confirmed_at", "confirm_token_hash", "confirm_expires_at"):
            row.pop(gone, None)
    _put_back(bind, kept)
    bind.execute(sa.text("DELETE FROM alert_cell"))
    rows = [{"s": s, "c": c} for s, found in covers.items() for c in found]
    if rows:
        bind.execute(
            sa.text("INSERT INTO alert_cell (subscription_id, cell, inside) VALUES (:s, :c, TRUE)"),
            rows,
        )
    with op.batch_alter_table("alert_cell", schema=None) as batch_op:
        batch_op.alter_column("inside", existing_type=sa.Boolean(), nullable=False)
