"""ingest lifecycle: source records of incidents, snapshots, clear times, push receipts, health

Revision ID: 0003_ingest_lifecycle
Revises: 0002_retention_run
Create Date: 2026-11-28 05:36:12.376973
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0003_ingest_lifecycle"
down_revision: str | None = "0002_retention_run"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("received_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_push_receipt_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_receipt")),
        sa.UniqueConstraint(
            "source_id", "signature", name=op.f("uq_push_receipt_source_id_signature")
        ),
    )
    with op.batch_alter_table("push_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_receipt_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "source_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False, comment="records it held"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_source_snapshot_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_snapshot")),
        sa.UniqueConstraint(
            "source_id", "taken_at", name=op.f("uq_source_snapshot_source_id_taken_at")
        ),
    )
    op.create_table(
        "source_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "record_key", sa.String(length=200), nullable=False, comment="external id, /unit if any"
        ),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("scene", sa.String(length=128), nullable=True, comment="scene key ([lifecycle])"),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column(
            "version_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="the record's version time, or when that version was received",
        ),
        sa.Column(
            "version_hash", sa.String(length=64), nullable=False, comment="of the version's content"
        ),
        sa.Column(
            "seen_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="last delivery holding it",
        ),
        sa.Column(
            "closed_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=True,
            comment="cleared at",
        ),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column(
            "mapped", sa.Boolean(), nullable=False, comment="false: call type not in the mapping"
        ),
        sa.Column("original_type", sa.String(length=200), nullable=False, comment="scrubbed"),
        sa.Column("address_block", sa.String(length=300), nullable=True, comment="public form"),
        sa.Column("lat", sa.Float(), nullable=False, comment="public point"),
        sa.Column("lon", sa.Float(), nullable=False, comment="public point"),
        sa.Column("occurred_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
            name=op.f("ck_source_record_point_range"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_source_record_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_source_record_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_record")),
        sa.UniqueConstraint(
            "source_id", "record_key", name=op.f("uq_source_record_source_id_record_key")
        ),
    )
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_source_record_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index("ix_source_record_open", ["source_id", "closed_at"], unique=False)
        batch_op.create_index("ix_source_record_scene", ["source_id", "scene"], unique=False)

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "closed_at",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="when the call was cleared; closed incidents leave the live feed",
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_incident_closed_has_time"),
            "(status = 'closed' AND closed_at IS NOT NULL)"
            " OR (status = 'active' AND closed_at IS NULL)",
        )

    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "failures",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="consecutive failed fetches",
            )
        )
        batch_op.add_column(
            sa.Column(
                "circuit_open_until",
                townsquare.db.UTCDateTime(timezone=True),
                nullable=True,
                comment="no fetch before this: the circuit breaker is open",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("circuit_open_until")
        batch_op.drop_column("failures")

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_incident_closed_has_time"), type_="check")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_index("ix_source_record_scene")
        batch_op.drop_index("ix_source_record_open")
        batch_op.drop_index(batch_op.f("ix_source_record_incident_id"))

    op.drop_table("source_record")
    op.drop_table("source_snapshot")
    with op.batch_alter_table("push_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_receipt_received_at"))

    op.drop_table("push_receipt")
