"""The post table: a resident's report, private in full; its public form is an incident."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime

STATES = ("pending", "published", "closed", "rejected", "removed")


class Post(Base):
    """A resident's report before and after moderation; only its incident is public."""

    __tablename__ = "post"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'published', 'closed', 'rejected', 'removed')",
            name="state_known",
        ),
        CheckConstraint("appeals BETWEEN 0 AND 1", name="one_appeal"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="exact_point_whole"),
        Index("ix_post_author_created", "author_id", "created_at"),
        Index("ix_post_state_created", "state", "created_at"),
        Index("ix_post_state_published", "state", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), comment="null once the author is erased"
    )
    category: Mapped[str] = mapped_column(String(64), comment="taxonomy code")
    title: Mapped[str] = mapped_column(String(200), comment="as written: private")
    description: Mapped[str] = mapped_column(Text, comment="as written: private")
    person: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="the described person's action and descriptors: private"
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float | None] = mapped_column(Float, comment="exact point: private, expires")
    lon: Mapped[float | None] = mapped_column(Float, comment="exact point: private, expires")
    public_lat: Mapped[float] = mapped_column(Float, comment="displaced and coarsened")
    public_lon: Mapped[float] = mapped_column(Float, comment="displaced and coarsened")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, comment="why rejected or removed")
    checks: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, comment="guideline checks that flagged it for the moderators"
    )
    fyi: Mapped[bool] = mapped_column(Boolean, default=False, comment="FYI form: never alerted")
    alertable: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    appeals: Mapped[int] = mapped_column(Integer, default=0)
    appeal_text: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"),
        index=True,  # a feed page finds its resident incidents' posts (media, corroboration)
        comment="its public form once published",
    )
    corroborated_by: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"),
        comment="dispatch incident within 300 m and 30 min of a compatible category",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(),
        comment="first published; the post closes retention.post_open_days later (edits too)",
    )
    closed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="closed, rejected or removed: the exact point expires from here"
    )


class PostMedia(Base):
    """A photo or clip attached to a post, in order."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
