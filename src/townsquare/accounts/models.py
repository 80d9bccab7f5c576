"""Account tables: people, their sessions, API tokens and e-mailed one-time links.

Secrets are stored only as hashes: a session cookie, an API token or an e-mailed link is
a random value the server sees once and keeps as SHA-256.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db import Base, UTCDateTime
from townsquare.sealing import Sealed

ROLES = ("resident", "moderator", "agency_officer", "agency_admin", "operator")
PRIVILEGED = frozenset(ROLES) - {"resident"}


class Account(Base):
    """A person who signs in; everything but the id is private to them and the operator."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("(home_lat IS NULL) = (home_lon IS NULL)", name="home_point_whole"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, comment="private, lower-case")
    password_hash: Mapped[str] = mapped_column(String(200), comment="argon2id")
    display_name: Mapped[str] = mapped_column(String(80), default="", comment="private")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(
        Sealed(255), comment="private; base32, sealed with a key outside the database"
    )
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(
        Integer, comment="last accepted TOTP time step: a code is accepted once"
    )
    home_lat: Mapped[float | None] = mapped_column(Float, comment="private home point")
    home_lon: Mapped[float | None] = mapped_column(Float, comment="private home point")
    language: Mapped[str | None] = mapped_column(
        String(8), comment="language of the mail sent later ('en', 'es'); none: English"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountSession(Base):
    """A signed-in browser or script; ended by sign-out, expiry or idleness."""

    __tablename__ = "account_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of cookie")
    csrf_token: Mapped[str] = mapped_column(String(64), comment="sent back in forms and headers")
    second_factor: Mapped[bool] = mapped_column(
        Boolean, default=False, comment="TOTP checked: privileged roles apply"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A personal token for scripts; dies with the session that made it, or at its own expiry."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_session.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="made + api_token_days; none: made before tokens expired"
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EmailToken(Base):
    """A one-time link sent by e-mail: address verification or password reset."""

    __tablename__ = "email_token"
    __table_args__ = (CheckConstraint("purpose IN ('verify', 'reset')", name="purpose_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SigninThrottle(Base):
    """Counted events of one key in a window: failed sign-ins of a (client address, e-mail)
    pair or of a client address, or one client address's anonymous writes of one kind.

    The key is a keyed digest (see `accounts.throttle`): no address or e-mail is stored. The
    column `failures` counts whatever the key counts (its name predates the anonymous limits).
    """

    __tablename__ = "signin_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
