"""Tables of the ingestion domain: feed sources and every raw record they delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from townsquare.db import Base, UTCDateTime
from townsquare.incidents.models import Incident

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
    failures: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="consecutive failed fetches"
    )
    circuit_open_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="no fetch before this: the circuit breaker is open"
    )


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


class SourceRecord(Base):
    """One call (or one unit on a call) of a source as last seen, linked to its incident.

    Holds only the public form of the record (redacted like the incident), so it may outlive
    the raw records: an incident is recomputed from its source records whenever one changes.
    """

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("source_id", "record_key"),
        Index("ix_source_record_scene", "source_id", "scene"),
        Index("ix_source_record_open", "source_id", "closed_at"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    record_key: Mapped[str] = mapped_column(String(200), comment="external id, /unit if any")
    external_id: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str | None] = mapped_column(String(64))
    scene: Mapped[str | None] = mapped_column(String(128), comment="scene key ([lifecycle])")
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    incident: Mapped[Incident] = relationship(lazy="select")
    version_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), comment="the record's version time, or when that version was received"
    )
    version_hash: Mapped[str] = mapped_column(String(64), comment="of the version's content")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="last delivery holding it")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), comment="cleared at")
    category: Mapped[str] = mapped_column(String(64))
    mapped: Mapped[bool] = mapped_column(Boolean, comment="false: call type not in the mapping")
    original_type: Mapped[str] = mapped_column(String(200), comment="scrubbed")
    address_block: Mapped[str | None] = mapped_column(String(300), comment="public form")
    lat: Mapped[float] = mapped_column(Float, comment="public point")
    lon: Mapped[float] = mapped_column(Float, comment="public point")
    precision: Mapped[str | None] = mapped_column(
        String(16), comment="how the point is known: coordinates, geocoder precision, area"
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    severity: Mapped[int | None] = mapped_column(
        Integer, comment="the record's own severity 1..5 (CAP alerts); null: the category's"
    )
    expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="closed at this time once it passes (CAP expires)"
    )
    summary: Mapped[str | None] = mapped_column(
        Text, comment="the record's own public text (CAP headline, description), scrubbed"
    )


class SourceSnapshot(Base):
    """A complete fetch of an "active calls" source: calls absent from it are closed."""

    __tablename__ = "source_snapshot"
    __table_args__ = (UniqueConstraint("source_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    records: Mapped[int] = mapped_column(Integer, comment="records it held")


class PushReceipt(Base):
    """A signature accepted on the push endpoint, kept for its time window to refuse replays."""

    __tablename__ = "push_receipt"
    __table_args__ = (UniqueConstraint("source_id", "signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    signature: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class GeocodeCache(Base):
    """An address the geocoder was asked about, and its answer: a re-run asks again never."""

    __tablename__ = "geocode_cache"
    __table_args__ = (
        UniqueConstraint("city", "address_key"),
        CheckConstraint("(lat IS NULL) = (precision IS NULL)", name="point_has_precision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(100), comment="the geocode.city hint, or ''")
    address_key: Mapped[str] = mapped_column(
        String(300), comment="the address, upper case, spaces collapsed (may hold a house number)"
    )
    lat: Mapped[float | None] = mapped_column(Float, comment="exact; none: not found")
    lon: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[str | None] = mapped_column(
        String(16), comment="address, block, intersection, street or place"
    )
    looked_up_at: Mapped[datetime] = mapped_column(UTCDateTime())
