"""footage: cameras, clips, footage requests, notices, shares, break-glass grants

Numbered 0006 as planned, but chained after 0007_agencies, which landed first and already adds
agency.verified_at (the column verified agencies need to file requests).

Revision ID: 0006_footage
Revises: 0007_agencies
Create Date: 2026-11-28 10:54:22.292822
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import townsquare.db

revision: str = "0006_footage"
down_revision: str | None = "0007_agencies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False, comment="private to the owner"),
        sa.Column("lat", sa.Float(), nullable=False, comment="private exact point"),
        sa.Column("lon", sa.Float(), nullable=False, comment="private exact point"),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the camera's push token",
        ),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
            name=op.f("ck_camera_point_range"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_camera_owner_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_camera_token_hash")),
    )
    with op.batch_alter_table("camera", schema=None) as batch_op:
        batch_op.create_index("ix_camera_lat_lon", ["lat", "lon"], unique=False)

    op.create_table(
        "footage_break_glass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True, comment="whose data; they see it"),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "target IN ('clip', 'camera')", name=op.f("ck_footage_break_glass_target_known")
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_footage_break_glass_reason_given")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["account.id"],
            name=op.f("fk_footage_break_glass_operator_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
            name=op.f("fk_footage_break_glass_owner_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footage_break_glass")),
    )
    op.create_table(
        "clip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column(
            "starts_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="capture start",
        ),
        sa.Column(
            "ends_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="capture end",
        ),
        sa.Column("created_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_clip_window_order")),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["camera.id"], name=op.f("fk_clip_camera_id_camera"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_clip_media_id_media"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip")),
    )
    op.create_table(
        "footage_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "officer_id", sa.Integer(), nullable=True, comment="who filed it (not published)"
        ),
        sa.Column("case_number", sa.String(length=64), nullable=False, comment="public"),
        sa.Column(
            "reason", sa.Text(), nullable=False, comment="public, scrubbed by the privacy engine"
        ),
        sa.Column("area_kind", sa.String(length=8), nullable=False),
        sa.Column(
            "center_lat", sa.Float(), nullable=False, comment="circle centre or polygon centroid"
        ),
        sa.Column("center_lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=True, comment="circles only"),
        sa.Column(
            "ring",
            sa.JSON(),
            nullable=False,
            comment="the area's outer ring as [lon, lat] pairs (circles as a 64-gon)",
        ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("window_start", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True, comment="its public feed item"),
        sa.Column("residents_notified", sa.Integer(), nullable=False),
        sa.Column("clips_shared", sa.Integer(), nullable=False, comment="shares ever made"),
        sa.Column("clips_revoked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(area_kind = 'circle') = (radius_m IS NOT NULL)",
            name=op.f("ck_footage_request_circle_has_radius"),
        ),
        sa.CheckConstraint(
            "area_kind IN ('circle', 'polygon')", name=op.f("ck_footage_request_area_kind_known")
        ),
        sa.CheckConstraint(
            "window_end > window_start", name=op.f("ck_footage_request_window_order")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_footage_request_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_footage_request_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["account.id"],
            name=op.f("fk_footage_request_officer_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footage_request")),
    )
    op.create_table(
        "footage_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False, comment="their cameras in the area"),
        sa.Column("notified_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", townsquare.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "declined_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=True,
            comment="the resident said no; never shown to the agency",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_footage_notice_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["footage_request.id"],
            name=op.f("fk_footage_notice_request_id_footage_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footage_notice")),
    )
    with op.batch_alter_table("footage_notice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_footage_notice_account", ["account_id", "request_id"], unique=True
        )

    op.create_table(
        "footage_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, comment="the resident's, as written"),
        sa.Column("shared_at", townsquare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "expires_at",
            townsquare.db.UTCDateTime(timezone=True),
            nullable=False,
            comment="the request's expiry unless the resident extended it",
        ),
        sa.Column("revoked_at", townsquare.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clip_id"], ["clip.id"], name=op.f("fk_footage_share_clip_id_clip"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["footage_request.id"],
            name=op.f("fk_footage_share_request_id_footage_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footage_share")),
    )
    with op.batch_alter_table("footage_share", schema=None) as batch_op:
        batch_op.create_index("ix_footage_share_request", ["request_id", "clip_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("footage_share", schema=None) as batch_op:
        batch_op.drop_index("ix_footage_share_request")

    op.drop_table("footage_share")
    with op.batch_alter_table("footage_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_footage_notice_account")

    op.drop_table("footage_notice")
    op.drop_table("footage_request")
    op.drop_table("clip")
    op.drop_table("footage_break_glass")
    with op.batch_alter_table("camera", schema=None) as batch_op:
        batch_op.drop_index("ix_camera_lat_lon")

    op.drop_table("camera")
