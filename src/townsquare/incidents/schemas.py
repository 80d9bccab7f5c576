"""Public shapes of incidents and the parsed feed query.

`IncidentPublic` can hold only what the public may see: its point, address and text
fields take types that only `townsquare.privacy.public` can make (a plain `str` or float
fails validation, and the unvalidated ways to build or copy a model are refused). It is
built from a stored incident by `to_public` alone.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field

from townsquare import geo, taxonomy
from townsquare.errors import InvalidParameter
from townsquare.privacy.types import BlockAddress, CoarsePoint, ScrubbedText

PROVENANCE = {
    "dispatch": "dispatch-confirmed",
    "agency": "agency",
    "resident": "resident, unverified",
}
CORROBORATED = "resident, corroborated by dispatch"


class MediaPublic(BaseModel):
    """The blurred, metadata-free copy of a photo or clip on an approved post, as anyone sees it.

    Its URL names the copy by the hash of its bytes: no media id, post or author.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["photo", "clip"]
    url: str = Field(description="path of the public copy on this site")
    content_type: str = Field(description="image/jpeg or video/mp4")
    width: int
    height: int
    duration_s: float | None = Field(default=None, description="a clip's length in seconds")


class IncidentPublic(BaseModel):
    """One feed item as anyone may see it."""

    model_config = ConfigDict(frozen=True)

    id: int
    category: str
    category_label: str
    title: ScrubbedText
    summary: ScrubbedText
    original_type: ScrubbedText
    address_block: BlockAddress | None
    point: CoarsePoint = Field(exclude=True)
    occurred_at: datetime
    published_at: datetime
    updated_at: datetime
    status: str
    closed_at: datetime | None = None
    """When the call was cleared; a closed incident is no longer in the live feed."""
    severity: int
    origin: str
    provenance: str
    agency: str | None
    alertable: bool
    alert_reasons: list[str]
    corroborated_by: int | None = None
    """A resident post's public dispatch incident within 300 m and 30 min, if any."""
    media: list[MediaPublic] = Field(default_factory=list)
    """A resident post's photos and clips (blurred copies), once a moderator approved it."""
    location_precision: str | None = None
    """How the point was known before it was coarsened: `coordinates` (the feed gave them),
    `address`, `block`, `intersection`, `street` or `place` (found by the geocoder from the
    address), `area` (the mapping's declared fallback); none for a resident's post."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lat(self) -> float:
        """Latitude of the public (coarse) point."""
        return self.point.lat

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lon(self) -> float:
        """Longitude of the public (coarse) point."""
        return self.point.lon

    @classmethod
    # The pydantic mypy plugin types model_construct with the fields; this one takes none.
    def model_construct(  # type: ignore[override]
        cls, _fields_set: set[str] | None = None, **values: Any
    ) -> Self:
        """Refused: building without validation could hold an exact value."""
        raise TypeError("IncidentPublic is built by incidents.service.to_public only")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; changes are refused because they would skip validation."""
        if update:
            raise TypeError("IncidentPublic cannot be changed by copying; build a new one")
        return super().model_copy(deep=deep)


@dataclass(frozen=True, slots=True)
class Circle:
    """A radius around a point."""

    center: geo.Point
    radius_m: float


@dataclass(frozen=True, slots=True)
class BBox:
    """A west, south, east, north box in degrees."""

    west: float
    south: float
    east: float
    north: float


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """A validated feed request."""

    area: Circle | BBox
    limit: int
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[float, int] | None = None
    text: str | None = None
    """Words every result's public title, block or category holds (`incidents.search`)."""


def encode_cursor(occurred_at: datetime, incident_id: int) -> str:
    """An opaque cursor meaning 'strictly after this item in feed order'."""
    raw = json.dumps([occurred_at.timestamp(), incident_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    """The (timestamp, id) inside a cursor; InvalidParameter if it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, incident_id = json.loads(raw)
        if not isinstance(incident_id, int) or not isinstance(stamp, int | float):
            raise TypeError
        return float(stamp), incident_id
    except (ValueError, TypeError, binascii.Error):
        raise InvalidParameter("cursor", "not a cursor returned by this API") from None


def parse_time(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 instant; a value without offset is refused rather than guessed."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(name, f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidParameter(name, "needs a UTC offset, e.g. 2024-05-01T12:00:00Z")
    return parsed.astimezone(UTC)


def _number(name: str, value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidParameter(name, f"{value!r} is not a number") from None


def parse_area(
    lat: str | None, lon: str | None, radius_m: str | None, bbox: str | None, max_radius_m: float
) -> Circle | BBox:
    """A circle from lat/lon/radius_m or a box from bbox=west,south,east,north."""
    if bbox:
        if lat or lon:
            raise InvalidParameter("bbox", "give either bbox or lat/lon, not both")
        parts = bbox.split(",")
        if len(parts) != 4:
            raise InvalidParameter("bbox", "expected west,south,east,north")
        w, s, e, n = (_number("bbox", p.strip()) or 0.0 for p in parts)
        if not geo.bbox_is_valid(w, s, e, n):
            raise InvalidParameter("bbox", "must be ordered west<east, south<north, in range")
        return BBox(w, s, e, n)
    lat_v, lon_v = _number("lat", lat), _number("lon", lon)
    if lat_v is None or lon_v is None:
        raise InvalidParameter("lat" if lat_v is None else "lon", "lat and lon (or bbox) required")
    if not -90 <= lat_v <= 90:
        raise InvalidParameter("lat", f"{lat_v} is outside [-90, 90]")
    if not -180 <= lon_v <= 180:
        raise InvalidParameter("lon", f"{lon_v} is outside [-180, 180]")
    radius = _number("radius_m", radius_m)
    radius = 2000.0 if radius is None else radius
    if not 0 < radius <= max_radius_m:
        raise InvalidParameter("radius_m", f"must be in (0, {max_radius_m:g}]")
    return Circle(geo.Point(lat_v, lon_v), radius)


def parse_category(value: str | None) -> str | None:
    """A taxonomy code or prefix; unknown ones are refused so typos do not look like quiet."""
    if not value:
        return None
    if not taxonomy.is_known_filter(value):
        raise InvalidParameter("category", f"{value!r} is not a category code or prefix")
    return value


MAX_SEARCH_CHARS = 100


def parse_text(value: str | None) -> str | None:
    """Search words: None for none, refused when longer than `MAX_SEARCH_CHARS`."""
    words = " ".join((value or "").split())
    if len(words) > MAX_SEARCH_CHARS:
        raise InvalidParameter("q", f"at most {MAX_SEARCH_CHARS} characters")
    return words or None


def parse_limit(value: str | None, maximum: int, default: int = 50) -> int:
    """A page size between 1 and `maximum`."""
    number = _number("limit", value)
    if number is None:
        return min(default, maximum)
    if number != int(number) or not 1 <= number <= maximum:
        raise InvalidParameter("limit", f"must be an integer in [1, {maximum}]")
    return int(number)


class AgencyIncident(BaseModel):
    """One of an agency's own incidents, withheld ones included, with why it was withheld."""

    model_config = ConfigDict(frozen=True)

    incident: IncidentPublic
    visibility: str
    visibility_reasons: list[str]
