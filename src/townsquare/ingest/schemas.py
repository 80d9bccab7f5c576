"""Response shapes of the ingestion domain: what anyone sees of a source, and what operators see.

The public shape carries no error text, no location and no counts: an error message may
quote a URL with a key, a file path or a server's reply, and counts per outcome say how much
is withheld. Operators (role `operator`, after two-factor sign-in) get `SourceDetail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["ok", "lagging", "failing"]
State = Literal["ok", "failing", "open", "new"]


class SourcePublic(BaseModel):
    """A feed source as anyone sees it."""

    model_config = ConfigDict(frozen=True)

    slug: str = Field(description="The source's id in URLs (its redaction manifest: .../policy).")
    name: str
    kind: str = Field(description="Adapter kind: csv, socrata, arcgis, json, cap, eido, push...")
    agency: str = Field(description="Name of the agency that runs the feed.")
    status: Status = Field(
        description="ok; lagging: no successful fetch within 3 poll intervals; "
        "failing: the last fetch failed or the circuit breaker is open."
    )


class SourceDetail(SourcePublic):
    """A feed source as an operator sees it: health, errors, where it is read, counts."""

    state: State = Field(
        description="Finer than status: open while the circuit breaker waits; new: never fetched."
    )
    location: str = Field(description="The URL or file read (empty for a push source).")
    poll_interval_s: int | None
    last_success_at: datetime | None
    lag_s: float | None = Field(description="Seconds since the last successful fetch.")
    last_error_at: datetime | None
    last_error: str | None
    failures: int = Field(description="Failed fetches in a row.")
    circuit_open_until: datetime | None
    records: dict[str, int] = Field(description="Raw records per outcome.")
    incidents: int
    unknown_call_types: int = Field(description="Distinct call types the mapping does not know.")
