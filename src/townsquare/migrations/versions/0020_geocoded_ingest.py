"""geocoded ingest: the precision of each point, and the geocoder's answers cached per address

Feeds that give an address but no coordinates are placed by the geocoder: the incident and
its source records say how exactly (`location_precision`, `precision`), and each distinct
address is asked once (`geocode_cache`).

Revision ID: 0020_geocoded_ingest
Revises: 0015_shared_media
Create Date: 2026-12-07 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db
from townsquare.migrations.steps import drop_columns

revision: str = "0020_geocoded_ingest"
down_revision: str | None = "0022_touches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "geocode_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "city", sa.String(length=100), nullable=False, comment="the geocode.city hint, or ''"
        ),
        sa.Column(
            "address_key",
            sa.String(length=300),
            nullable=False,
            comment="the address, upper case, spaces collapsed (may hold a house number)",
        ),
        sa.Column("lat", sa.Float(), nullable=True, comment="exact; none: not found"),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column(
            "precision",
            sa.String(length=16),
            nullable=True,
            comment="address, block, intersection, street or place",
        ),
        sa.Column("looked_up_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(lat IS NULL) = (precision IS NULL)",
            name=op.f("ck_geocode_cache_point_has_precision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geocode_cache")),
        sa.UniqueConstraint("city", "address_key", name=op.f("uq_geocode_cache_city_address_key")),
    )
    op.add_column(
        "incident",
        sa.Column(
            "location_precision",
            sa.String(length=16),
            nullable=True,
            comment="how the exact point was known: coordinates, address, block, intersection, "
            "street, area (a declared fallback); none: not a feed's",
        ),
    )
    op.add_column(
        "source_record",
        sa.Column(
            "precision",
            sa.String(length=16),
            nullable=True,
            comment="how the point is known: coordinates, geocoder precision, area",
        ),
    )


def downgrade() -> None:
    drop_columns("source_record", "precision")
    drop_columns("incident", "location_precision")
    op.drop_table("geocode_cache", if_exists=True)
