"""Shapes of the agencies domain: agencies, their members, push keys and official updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from townsquare import taxonomy
from townsquare.agencies import jurisdiction

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"


class AgencyIn(BaseModel):
    """A new agency, as an operator registers it (unverified until `verify`)."""

    slug: str = Field(pattern=SLUG, description="URL-safe name, e.g. seattle-police")
    name: str = Field(min_length=2, max_length=200)
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. America/Los_Angeles")
    jurisdiction: dict[str, Any] = Field(
        description="GeoJSON Polygon or MultiPolygon ([lon, lat]) of the area it serves"
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _area(cls, value: dict[str, Any]) -> dict[str, Any]:
        jurisdiction.parse(value)  # a JurisdictionError is a ValueError: a 422 naming it
        return value


class AgencyOut(BaseModel):
    """An agency as anyone may see it: who it is, where it serves, whether it is verified."""

    slug: str
    name: str
    time_zone: str
    jurisdiction: dict[str, Any] | None
    verified: bool
    verified_at: datetime | None


class EmailIn(BaseModel):
    """The e-mail of an existing, verified account."""

    email: str = Field(max_length=320)


class Member(BaseModel):
    """A member of the caller's agency, as its admins see them."""

    account_id: int
    email: str
    display_name: str
    roles: list[str]


class PushSourceOut(BaseModel):
    """One push source of the caller's agency and the state of its key (never the key)."""

    slug: str
    name: str
    stored_key: bool
    """True once a key was set here; false: the server's environment variables hold it."""
    key_created_at: datetime | None


class KeyMade(BaseModel):
    """A new push key, shown once: the sender puts both in its configuration."""

    source: str
    key: str
    """Sent as X-Townsquare-Key."""
    secret: str
    """Signs each body: X-Townsquare-Signature (HMAC-SHA256)."""
    created_at: datetime


class UpdateIn(BaseModel):
    """An official update; the point is coarsened, the address generalized, the text scrubbed."""

    category: str = Field(max_length=64)
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(default="", max_length=5000)
    occurred_at: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in taxonomy.categories():
            raise ValueError(f"unknown category code {value!r}")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its UTC offset")
        return value


class UpdateCorrection(BaseModel):
    """A correction: the fields given replace the update's; the rest stays."""

    category: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, min_length=3, max_length=200)
    summary: str | None = Field(default=None, max_length=5000)
    occurred_at: datetime | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)
    status: str | None = Field(default=None, pattern="^(active|closed)$")
