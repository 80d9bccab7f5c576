"""Request and response shapes of accounts, and the signed-in caller."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from townsquare.accounts.models import PRIVILEGED


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: the account, its effective roles, and how it signed in."""

    account_id: int
    roles: frozenset[str]
    session_id: int | None
    csrf_token: str | None
    email_verified: bool
    via_token: bool = False

    def has(self, role: str) -> bool:
        """True when the role applies in this session."""
        return role in self.roles

    @property
    def privileged(self) -> bool:
        """True when a privileged role applies (a second factor was given)."""
        return bool(self.roles & PRIVILEGED)


class SignUp(BaseModel):
    """A new account."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    password: str = Field(min_length=10, max_length=200)
    display_name: str = Field(default="", max_length=80)


class SignIn(BaseModel):
    """Credentials; `totp` is required once two-factor sign-in is on."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=200)
    totp: str | None = Field(default=None, max_length=10)


class SignedIn(BaseModel):
    """What a sign-in returns to a script (the cookie carries the session)."""

    account_id: int
    roles: list[str]
    csrf_token: str
    second_factor: bool


class Me(BaseModel):
    """The caller's own account."""

    id: int
    email: str
    display_name: str
    roles: list[str]
    active_roles: list[str]
    email_verified: bool
    totp_enabled: bool

    @property
    def needs_totp(self) -> bool:
        """True when one of the account's roles requires two-factor sign-in."""
        return bool(PRIVILEGED & set(self.roles))


class TokenCreate(BaseModel):
    """A name for a new personal API token."""

    name: str = Field(min_length=1, max_length=80)


class TokenCreated(BaseModel):
    """The new token, shown once."""

    id: int
    name: str
    token: str


class TotpSetup(BaseModel):
    """A TOTP secret to enter in an authenticator app."""

    secret: str
    uri: str


class Code(BaseModel):
    """A six-digit code from the authenticator app."""

    code: str = Field(min_length=6, max_length=10)


class EmailOnly(BaseModel):
    """An e-mail address (password reset)."""

    email: str = Field(max_length=320)


class NewPassword(BaseModel):
    """A reset link's token and the new password."""

    token: str = Field(max_length=200)
    password: str = Field(min_length=10, max_length=200)


class LinkToken(BaseModel):
    """The token of an e-mailed link."""

    token: str = Field(max_length=200)
