"""Tables of the ingestion domain: feed sources and every raw record they delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

OUTCOMES = ("normalized", "withheld", "quarantined")


class Source(Base):
    """One feed of one agency, declared by a TOML file."""

    __tablename__ = "source"
    __table_args__ = (CheckConstraint("kind <> ''", name="kind_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), comment="adapter: csv, socrata, arcgis, ...")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the parsed TOML declaration")
    cursor: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="where the next poll resumes"
    )
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class RawRecord(Base):
    """A record exactly as received, kept for replay and audit within retention."""

    __tablename__ = "raw_record"
    __table_args__ = (
        UniqueConstraint("source_id", "content_hash"),
        CheckConstraint(
            "outcome IN ('normalized', 'withheld', 'quarantined')", name="outcome_known"
        ),
        CheckConstraint(
            "outcome <> 'quarantined' OR error IS NOT NULL", name="quarantine_has_error"
        ),
        Index("ix_raw_record_source_outcome", "source_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    position: Mapped[str] = mapped_column(String(64), comment="where in the payload, e.g. line 17")
    external_id: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the payload")
    payload: Mapped[str] = mapped_column(Text, comment="the record as received (may hold PII)")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    error_field: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
