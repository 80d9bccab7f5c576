"""The feedback table: one reader's verdict on one alert, keyed by a salted hash, never an IP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime


class Feedback(Base):
    """A reader's mark on an alert; `voter` makes it one per person (per day when anonymous).

    `voter` is an HMAC under the server secret of the account id, or of (IP, user agent, UTC
    day) for anonymous readers; `rate_key` (anonymous only) of (IP, day). Raw IPs never reach
    the database, and the hashes cannot be reversed without the secret.
    """

    __tablename__ = "incident_feedback"
    __table_args__ = (
        UniqueConstraint("incident_id", "voter"),
        CheckConstraint("verdict IN ('not_useful', 'inaccurate')", name="verdict_known"),
        Index("ix_incident_feedback_rate", "rate_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    verdict: Mapped[str] = mapped_column(String(16))
    voter: Mapped[str] = mapped_column(String(64), comment="private: HMAC of the reader")
    signed_in: Mapped[bool] = mapped_column(Boolean, comment="voted with an account")
    rate_key: Mapped[str | None] = mapped_column(
        String(64), comment="private: HMAC of (IP, day) for anonymous readers' rate limit"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
