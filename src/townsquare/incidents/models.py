"""The incident table: one public item of the feed, stored only in its public (redacted) form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

ORIGINS = ("dispatch", "resident", "agency")
STATUSES = ("active", "closed")
VISIBILITIES = ("public", "withheld", "removed")


class Incident(Base):
    """One item of the feed; every column holds only what may be public once visible."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        CheckConstraint("origin IN ('dispatch', 'resident', 'agency')", name="origin_known"),
        CheckConstraint("status IN ('active', 'closed')", name="status_known"),
        CheckConstraint(
            "(status = 'closed' AND closed_at IS NOT NULL)"
            " OR (status = 'active' AND closed_at IS NULL)",
            name="closed_has_time",
        ),
        CheckConstraint("visibility IN ('public', 'withheld', 'removed')", name="visibility_known"),
        CheckConstraint("severity BETWEEN 1 AND 5", name="severity_range"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point_range"),
        Index("ix_incident_feed_order", "occurred_at", "id"),
        Index("ix_incident_h3_r5", "h3_r5", "occurred_at"),
        Index("ix_incident_h3_r7", "h3_r7", "occurred_at"),
        Index("ix_incident_h3_r9", "h3_r9", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(16), comment="dispatch, resident or agency")
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    external_id: Mapped[str | None] = mapped_column(String(128), comment="id in the source")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    category: Mapped[str] = mapped_column(String(64), comment="taxonomy code")
    original_type: Mapped[str] = mapped_column(String(200), comment="call type as the source says")
    title: Mapped[str] = mapped_column(String(300), comment="public, redacted")
    summary: Mapped[str] = mapped_column(Text, default="", comment="public, redacted")
    address_block: Mapped[str | None] = mapped_column(
        String(300), comment="hundred block or intersection; never a house number"
    )
    lat: Mapped[float] = mapped_column(Float, comment="public point, already coarsened")
    lon: Mapped[float] = mapped_column(Float, comment="public point, already coarsened")
    location_precision: Mapped[str | None] = mapped_column(
        String(16),
        comment="how the exact point was known: coordinates, address, block, intersection, "
        "street, area (a declared fallback); none: not a feed's",
    )
    h3_r5: Mapped[int] = mapped_column(BigInteger)
    h3_r7: Mapped[int] = mapped_column(BigInteger)
    h3_r9: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    closed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="when the call was cleared; closed incidents leave the live feed"
    )
    severity: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    visibility_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    alertable: Mapped[bool] = mapped_column(Boolean, default=False)
    alertable_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_count: Mapped[int] = mapped_column(Integer, default=1, comment="responding units merged")
    content_hash: Mapped[str] = mapped_column(String(64), comment="of the normalized content")
