"""Tables of the agencies domain."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base


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
