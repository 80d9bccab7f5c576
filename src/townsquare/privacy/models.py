"""Tables of the privacy domain: the record of each retention run and what it deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime


class RetentionRun(Base):
    """One run of the retention job: when, and how many rows of each kind it deleted."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="the job's idea of now")
    deleted: Mapped[dict[str, int]] = mapped_column(
        JSON, comment="rows deleted by kind, e.g. raw_records; counts only"
    )
    total: Mapped[int] = mapped_column(Integer, comment="sum of deleted")
