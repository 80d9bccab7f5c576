"""The optional tables of a source file: HTTP, the lifecycle of its calls, and one per kind.

Split from `config.py` so that module stays the shape of the file and this one the knobs.
Every key here is documented in docs/add-a-feed.md (a test checks it).
"""

from __future__ import annotations

from typing import Literal

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
    status: str | None = None
    """Column with the call's status; a value in `closed_values` closes the call."""
    closed_values: list[str] = Field(default_factory=list)
    scene: list[str] = Field(default_factory=list)
    """Columns that name a scene: records of different calls with the same values within
    `scene_minutes` of each other are one incident (several agencies on one scene)."""
    scene_minutes: int = Field(default=30, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _coherent(self) -> LifecycleConfig:
        if (self.status is None) != (not self.closed_values):
            raise ValueError("status and closed_values go together")
        return self

    def columns(self) -> set[str]:
        """Every payload column the lifecycle reads."""
        found = {c for c in (self.version, self.cleared_at, self.status) if c is not None}
        return found | set(self.scene)


class ArcgisOptions(_Model):
    """An ArcGIS MapServer/FeatureServer layer query (the `[arcgis]` table)."""

    where: str = "1=1"
    out_fields: str = "*"
    order_by: str | None = None
    """`orderByFields`, e.g. "CALL_TIME DESC"; paging needs a stable order."""
    page_size: int = Field(default=1000, ge=1, le=32000)
    format: Literal["json", "geojson"] = "json"
    max_pages: int = Field(default=1000, ge=1)


class SocrataOptions(_Model):
    """A Socrata SODA 2 resource (the `[socrata]` table)."""

    page_size: int = Field(default=1000, ge=1, le=50000)
    order: str = ":id"
    """`$order`: paging needs a stable order."""
    where: str | None = None
    """A fixed `$where` filter, combined with the incremental one."""
    since_column: str | None = None
    """Incremental reads: only rows whose column is after the newest value seen."""
    max_pages: int = Field(default=1000, ge=1)


class JsonOptions(_Model):
    """A generic JSON document (the `[json]` table)."""

    records: str = ""
    """Dotted path to the list of records ("data.items"); empty: the document is the list."""


class FeedOptions(_Model):
    """Atom/RSS and CAP readers (the `[feed]` table)."""

    follow_links: bool = True
    """CAP: an Atom index's entries are fetched from their links (else the entry is used)."""
    max_entries: int = Field(default=500, ge=1)


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


def kind_tables() -> dict[str, type[_Model]]:
    """Per-kind option tables by key, for the config model and the docs test."""
    return {
        "http": HttpOptions,
        "lifecycle": LifecycleConfig,
        "arcgis": ArcgisOptions,
        "socrata": SocrataOptions,
        "json": JsonOptions,
        "feed": FeedOptions,
        "push": PushOptions,
    }
