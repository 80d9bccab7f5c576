"""The media table: a content-addressed private original and its public derivative.

An upload is stored `processing` and the media job makes its derivative (`media.jobs`): a
clip's takes seconds to minutes, a photo's a second or two within a bounded amount of memory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

KINDS = ("photo", "clip")
STATES = ("processing", "ready", "failed")


class Media(Base):
    """One upload: the original (private to its owner) and the stripped, blurred derivative."""

    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("kind IN ('photo', 'clip')", name="kind_known"),
        CheckConstraint("state IN ('processing', 'ready', 'failed')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64), comment="detected from the content")
    original_key: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of the original blob: private; null once expired"
    )
    public_key: Mapped[str | None] = mapped_column(
        String(64),
        index=True,
        comment="SHA-256 of the derivative; null until it is made",
    )
    public_type: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    blurred_regions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(
        String(12), default="ready", server_default="ready", index=True
    )
    error: Mapped[str | None] = mapped_column(
        String(300), comment="why the derivative could not be made, shown to the owner"
    )
    claimed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="when a media job took the clip; a stale claim is taken over"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MediaChunk(Base):
    """A piece of a blob kept in the database (`TOWNSQUARE_MEDIA_STORAGE=database`).

    Every node already shares the store, so a clip uploaded through one is read by another's
    media job with nothing else to mount; pieces of 1 MiB keep reads and writes bounded.
    """

    __tablename__ = "media_chunk"

    key: Mapped[str] = mapped_column(String(64), primary_key=True, comment="SHA-256 of the blob")
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0, 1, 2 ... in order")
    data: Mapped[bytes] = mapped_column(LargeBinary, comment="private: media bytes")
