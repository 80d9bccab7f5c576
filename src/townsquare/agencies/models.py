"""Tables of the agencies domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime
from townsquare.sealing import Sealed


class Agency(Base):
    """A police, fire or emergency agency that publishes a feed."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, comment="URL-safe name")
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), comment="IANA zone of its local times")
    jurisdiction: Mapped[str | None] = mapped_column(
        Text, comment="GeoJSON polygon of the area it serves"
    )
    verified_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="when an operator confirmed it is the agency it says (footage)"
    )


class PushKey(Base):
    """The credentials of one push source, set by its agency's admin; newest live one wins.

    Once a source has a stored key, the environment variables of its `[push]` table are no
    longer read: a rotation stops every earlier key, the configured one included.
    """

    __tablename__ = "push_key"
    __table_args__ = (
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_later"),
        Index("ix_push_key_live", "source_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the API key (X-Townsquare-Key)"
    )
    secret: Mapped[str] = mapped_column(
        Sealed(255), comment="private: HMAC key of X-Townsquare-Signature, sealed (sealing.py)"
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
