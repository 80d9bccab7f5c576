"""The optional tables every source file may carry: HTTP, the lifecycle of its calls, push.

Split from `config.py` so that module stays the shape of the file and this one the knobs.
A kind's own table (`[csv]`, `[arcgis]` ...) is the `Options` model declared beside its
reader in `ingest/sources/`. Every key is documented in docs/add-a-feed.md (a test checks it).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpOptions(_Model):
    """How a URL `location` is fetched (the `[http]` table)."""

    timeout_s: float = Field(default=30.0, gt=0, le=600)
    """Connect and read timeout of each request."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (never secrets: use `token_env`)."""
    token_env: str | None = None
    """Environment variable holding a token sent in `token_header` (e.g. a Socrata app token)."""
    token_header: str = "X-App-Token"  # noqa: S105 - a header name, not a secret
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """A response larger than this is refused (a runaway or hostile server)."""


class LifecycleConfig(_Model):
    """How records of a call relate over time (the `[lifecycle]` table)."""

    snapshot: bool = False
    """Each fetch is the whole set of active calls: a call missing from a later complete
    fetch is closed at that fetch's time."""
    version: str | None = None
    """Column with the record's last-modified time (parsed with the `occurred_at` formats):
    versions are ordered by it; without it, by the time the record was received."""
    cleared_at: str | None = None
    """Column with the time the call was cleared: a record with a value closes its call."""
    expires: str | None = None
    """Column with the time the record stops being current (CAP `expires`): once it has
    passed, on arrival or later while stored, the record is closed at that time."""
    status: str | None = None
    """Column with the call's status; a value in `closed_values` closes the call."""
    closed_values: list[str] = Field(default_factory=list)
    scene: list[str] = Field(default_factory=list)
    """Columns that name a scene: records of different calls with the same values within
    `scene_minutes` of each other are one incident (several agencies on one scene)."""
    scene_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refers: str | None = None
    """Column listing (space-separated) the ids of earlier records a closing record (`status`)
    closes too, at its version time, even when it cannot be read itself (CAP: the identifiers
    of a Cancel's `references`; a Cancel with no `info` has no event and no area)."""
    snapshot_time: str | None = None
    """Column with the time the snapshot was published (its latest value, read with the
    `occurred_at` formats): calls missing from it are closed at that time. Without it, at
    the time of the fetch."""
    max_close_share: float = Field(default=0.5, gt=0, le=1)
    """A snapshot that would close more than this share of the open calls at once, and holds
    fewer records than the rest, is held back as suspect (an empty or truncated answer); the
    next good snapshot proceeds."""
    guard_from_open: int = Field(default=10, ge=1)
    """The share is checked only when at least this many calls are open."""

    @model_validator(mode="after")
    def _coherent(self) -> LifecycleConfig:
        if (self.status is None) != (not self.closed_values):
            raise ValueError("status and closed_values go together")
        return self

    def columns(self) -> set[str]:
        """Every payload column the lifecycle reads."""
        named = (self.version, self.cleared_at, self.expires, self.status, self.refers)
        found = {c for c in (*named, self.snapshot_time) if c}
        return found | set(self.scene)


class PushOptions(_Model):
    """Records POSTed to /api/v1/sources/{slug}/records (the `[push]` table)."""

    format: str = "json"
    """The kind whose reader parses a pushed body: json, csv, eido, cap, atom."""
    key_env: str = Field(min_length=1)
    """Environment variable holding the API key sent as `X-Townsquare-Key`."""
    secret_env: str = Field(min_length=1)
    """Environment variable holding the HMAC-SHA256 secret of `X-Townsquare-Signature`."""
    max_skew_s: int = Field(default=300, ge=10, le=3600)
    """A signature older or newer than this is refused, and one seen before is a replay."""
    max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
