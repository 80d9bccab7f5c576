"""Alert tables: subscriptions (watch areas), their channels, the geofence cover, deliveries.

A watch area is stored as its H3 cover only (`alert_cell`): no centre, radius or polygon is
kept anywhere, the browser keeps the shape it drew (see `alerts.cells`). An e-mail channel
sends nothing until its address is confirmed from the link mailed to it (double opt-in).

A subscription is owned by an anonymous manage token (only its SHA-256 is stored) so a
visitor without an account can subscribe. Accounts come later: they add a nullable
`owner_user_id` and relax `manage_token_hash` to "one of the two is set" in a migration,
nothing here has to move.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime
from townsquare.sealing import Sealed, SealedJSON

DELIVERY_KINDS = ("alert", "update", "cancel", "digest")
DELIVERY_STATUSES = ("queued", "retrying", "sent", "dead", "held", "digested", "withdrawn")


class Subscription(Base):
    """One watch area with what to alert about and when."""

    __tablename__ = "alert_subscription"
    __table_args__ = (
        CheckConstraint("min_severity BETWEEN 1 AND 5", name="min_severity_range"),
        CheckConstraint("urgent_severity BETWEEN 1 AND 6", name="urgent_severity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manage_token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 hex of the manage token; the token is not kept"
    )
    name: Mapped[str] = mapped_column(String(100), default="", comment="owner's label")
    cover_key: Mapped[str] = mapped_column(
        String(64), index=True, comment="SHA-256 of the sorted cover cells: finds duplicates"
    )
    categories: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="taxonomy codes or prefixes; empty: every category"
    )
    min_severity: Mapped[int] = mapped_column(Integer, default=1)
    urgent_severity: Mapped[int] = mapped_column(
        Integer, default=4, comment="from this severity alerts go out at once; below: digest"
    )
    quiet_start: Mapped[str | None] = mapped_column(String(5), comment="HH:MM local, or none")
    quiet_end: Mapped[str | None] = mapped_column(String(5), comment="HH:MM local, or none")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str | None] = mapped_column(
        String(8), comment="language of the mail sent later ('en', 'es'); none: English"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Channel(Base):
    """Where one subscription's alerts go."""

    __tablename__ = "alert_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscription.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    """A registered channel kind (`alerts.channels.registry`): no CHECK keeps a second list."""
    target: Mapped[dict[str, Any]] = mapped_column(
        SealedJSON, comment="address, URL or push subscription and its keys; private, sealed"
    )
    secret: Mapped[str | None] = mapped_column(
        Sealed(255), comment="webhook signing key (HMAC-SHA256), shown to the owner once; sealed"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, comment="false once gone")
    confirmed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="when the address confirmed; nothing is sent before"
    )
    confirm_token_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, comment="SHA-256 hex of the mailed confirmation token"
    )
    confirm_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="the confirmation link works until then"
    )


class AreaCell(Base):
    """The geofence cover of a subscription: the cells are the area (no exact test)."""

    __tablename__ = "alert_cell"
    __table_args__ = (Index("ix_alert_cell_cell", "cell"),)

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscription.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True, comment="H3 cell as integer")


class Delivery(Base):
    """One message to one channel, and what became of it: the delivery log."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "incident_id", "kind", "revision"),
        CheckConstraint("kind IN ('alert', 'update', 'cancel', 'digest')", name="kind_known"),
        CheckConstraint(
            "status IN ('queued', 'retrying', 'sent', 'dead', 'held', 'digested', 'withdrawn')",
            name="status_known",
        ),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
        Index("ix_alert_delivery_incident", "incident_id"),
        Index("ix_alert_delivery_log", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscription.id", ondelete="CASCADE")
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channel.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="no foreign key: the log outlives a deleted incident"
    )
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[str] = mapped_column(
        String(40), default="", comment="content digest for updates, batch key for digests"
    )
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, comment="public fields only")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VapidKey(Base):
    """The server's VAPID key pair, made on first start and shared by every node.

    One row (id 1): the node that starts first writes it, the others read it. Settings that
    name a key pair win over it.
    """

    __tablename__ = "alert_vapid_key"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    private_key: Mapped[str] = mapped_column(
        Sealed(255), comment="private: raw P-256 scalar, base64url; sealed (sealing.py)"
    )
    public_key: Mapped[str] = mapped_column(
        String(100), comment="uncompressed P-256 point, base64url; handed to browsers"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
