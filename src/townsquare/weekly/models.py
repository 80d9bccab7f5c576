"""The weekly digest log: which e-mail channel got which week's summary, so none gets two."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

STATUSES = ("sending", "sent", "failed")


class WeeklyDigest(Base):
    """One week's summary for one e-mail channel: the unique key makes it once per week.

    A row is claimed (`sending`) and committed before the mail leaves, so a second run, or a
    second node, finds it and sends nothing; a `failed` row is tried again by the next run.
    """

    __tablename__ = "weekly_digest"
    __table_args__ = (
        UniqueConstraint("channel_id", "week"),
        CheckConstraint("status IN ('sending', 'sent', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channel.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(
        String(8), comment="ISO week of the window's end in UTC, e.g. 2026-W48"
    )
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), comment="end of the week summed")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
