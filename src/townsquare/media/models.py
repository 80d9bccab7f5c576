"""The media table: a content-addressed private original and its public derivative."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

KINDS = ("photo", "clip")


class Media(Base):
    """One upload: the original (private to its owner) and the stripped, blurred derivative."""

    __tablename__ = "media"
    __table_args__ = (CheckConstraint("kind IN ('photo', 'clip')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64), comment="detected from the content")
    original_key: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of the original blob: private; null once expired"
    )
    public_key: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the derivative")
    public_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    blurred_regions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
