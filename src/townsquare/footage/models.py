"""Footage tables: residents' cameras and clips, agencies' requests, residents' shares.

A camera's point is private to its owner: it never appears in a public or agency shape, and
every read of it by anyone else is audited with the owner as subject. A request is always
public; who was notified, who declined and whose clips were shared are not, even to the
agency: the request row keeps only the counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime


class Camera(Base):
    """A resident's camera: a name, an exact (private) point and a push token's hash."""

    __tablename__ = "camera"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point_range"),
        Index("ix_camera_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80), comment="private to the owner")
    lat: Mapped[float] = mapped_column(Float, comment="private exact point")
    lon: Mapped[float] = mapped_column(Float, comment="private exact point")
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the camera's push token"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Clip(Base):
    """One clip of a camera: its capture window and its media row (the pipeline's output)."""

    __tablename__ = "clip"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="capture start")
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="capture end")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FootageRequest(Base):
    """An agency's request for footage of an area and a time window; public in full."""

    __tablename__ = "footage_request"
    __table_args__ = (
        CheckConstraint("window_end > window_start", name="window_order"),
        CheckConstraint("area_kind IN ('circle', 'polygon')", name="area_kind_known"),
        CheckConstraint(
            "(area_kind = 'circle') = (radius_m IS NOT NULL)", name="circle_has_radius"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), comment="who filed it (not published)"
    )
    case_number: Mapped[str] = mapped_column(String(64), comment="public")
    reason: Mapped[str] = mapped_column(Text, comment="public, scrubbed by the privacy engine")
    area_kind: Mapped[str] = mapped_column(String(8))
    center_lat: Mapped[float] = mapped_column(Float, comment="circle centre or polygon centroid")
    center_lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float, comment="circles only")
    ring: Mapped[list[list[float]]] = mapped_column(
        JSON, comment="the area's outer ring as [lon, lat] pairs (circles as a 64-gon)"
    )
    area_m2: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id"), comment="its public feed item"
    )
    residents_notified: Mapped[int] = mapped_column(Integer, default=0)
    clips_shared: Mapped[int] = mapped_column(Integer, default=0, comment="shares ever made")
    clips_revoked: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """A resident's inbox item: a request whose area holds one of their cameras. Private."""

    __tablename__ = "footage_notice"
    __table_args__ = (Index("ix_footage_notice_account", "account_id", "request_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("footage_request.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    camera_ids: Mapped[list[int]] = mapped_column(JSON, comment="their cameras in the area")
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="the resident said no; never shown to the agency"
    )


class Share(Base):
    """One clip a resident chose to share for one request, until revoked or expired."""

    __tablename__ = "footage_share"
    __table_args__ = (Index("ix_footage_share_request", "request_id", "clip_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("footage_request.id", ondelete="CASCADE"))
    clip_id: Mapped[int] = mapped_column(ForeignKey("clip.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="", comment="the resident's, as written")
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), comment="the request's expiry unless the resident extended it"
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BreakGlass(Base):
    """An operator's time-limited access to one clip or camera, with the stated reason."""

    __tablename__ = "footage_break_glass"
    __table_args__ = (
        CheckConstraint("target IN ('clip', 'camera')", name="target_known"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), comment="whose data; they see it"
    )
    target: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
