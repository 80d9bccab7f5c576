"""Request and response shapes of footage.

Three audiences, three kinds of shape. Public ones (`RequestPublic`, `AgencyPage`) carry the
request as filed and counts. Agency ones (`SharedClip`) carry a share's id, capture window,
note and link: no account, camera, clip or media id, and no point. Owner ones (`CameraOut`,
`InboxItem`, `MyShare`) carry the resident's own data, exact points included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field


class CircleIn(BaseModel):
    """A circle on the ground."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0)


class FileRequest(BaseModel):
    """A footage request as an officer files it: one of `circle` or `polygon`."""

    case_number: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    reason: str = Field(min_length=1, max_length=2000)
    circle: CircleIn | None = None
    polygon: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon")
    window_start: AwareDatetime
    window_end: AwareDatetime
    expires_at: AwareDatetime


class AreaOut(BaseModel):
    """A request's area: the circle as given or the polygon, both as a GeoJSON ring."""

    kind: Literal["circle", "polygon"]
    center_lat: float
    center_lon: float
    radius_m: float | None
    geojson: dict[str, Any]
    square_miles: float


class RequestPublic(BaseModel):
    """A footage request as anyone sees it: what was asked, and counts only."""

    id: int
    agency: str
    agency_name: str
    case_number: str
    reason: str
    area: AreaOut
    window_start: datetime
    window_end: datetime
    filed_at: datetime
    expires_at: datetime
    open: bool
    incident_id: int | None
    residents_notified: int
    clips_shared: int
    clips_revoked: int


class AgencyPage(BaseModel):
    """An agency's public page."""

    slug: str
    name: str
    verified: bool
    verified_at: datetime | None
    requests: list[RequestPublic]


class SharedClip(BaseModel):
    """A clip shared with the agency's request, as the agency sees it: nothing about who."""

    share_id: int
    request_id: int
    starts_at: datetime
    ends_at: datetime
    duration_s: float | None
    note: str
    shared_at: datetime
    expires_at: datetime
    video: str = Field(description="URL of the shared video (metadata stripped, blurred)")


class CameraIn(BaseModel):
    """A camera to register."""

    name: str = Field(min_length=1, max_length=80)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class CameraOut(BaseModel):
    """A camera as its owner sees it, exact point included."""

    id: int
    name: str
    lat: float
    lon: float
    created_at: datetime
    clips: int


class CameraCreated(CameraOut):
    """A new camera and its push token, shown once."""

    token: str


class ClipOut(BaseModel):
    """A clip of one of the caller's cameras."""

    id: int
    camera_id: int
    media_id: int
    starts_at: datetime
    ends_at: datetime
    duration_s: float | None
    state: Literal["processing", "ready", "failed"] = Field(
        description="the blurred copy is made in the background after the upload"
    )
    error: str | None = Field(description="why it could not be processed, if it failed")


class MyShare(BaseModel):
    """A share as the resident who made it sees it."""

    id: int
    request_id: int
    clip_id: int
    note: str
    shared_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class InboxItem(BaseModel):
    """A request whose area holds one of the caller's cameras, with what they may share."""

    request: RequestPublic
    camera_ids: list[int]
    notified_at: datetime
    declined_at: datetime | None
    clips: list[ClipOut] = Field(description="their clips overlapping the request window")
    shares: list[MyShare]


class ShareIn(BaseModel):
    """Clips to share with a request, and an optional note to the agency."""

    clip_ids: list[int] = Field(min_length=1, max_length=50)
    note: str = Field(default="", max_length=1000)


class ExtendIn(BaseModel):
    """A new expiry for a share, at most the setting's days past the request's."""

    until: AwareDatetime


class BreakGlassIn(BaseModel):
    """An operator's emergency access: what, and why (shown to the owner)."""

    target: Literal["clip", "camera"]
    target_id: int
    reason: str = Field(min_length=10, max_length=1000)


class BreakGlassOut(BaseModel):
    """A break-glass grant."""

    id: int
    target: str
    target_id: int
    reason: str
    opened_at: datetime
    expires_at: datetime


class CameraPoint(BaseModel):
    """A camera's point, as read under break-glass."""

    id: int
    lat: float
    lon: float


class AccessEntry(BaseModel):
    """One read or grant of the caller's data by someone else."""

    at: datetime
    action: str
    object_type: str
    object_id: str
    by: str = Field(
        description="who, by the role held when reading: 'agency <slug>', 'moderator', "
        "'agency officer', 'operator'"
    )
    detail: dict[str, Any]


class TransparencyRow(BaseModel):
    """One request in the transparency report."""

    agency: str
    case_number: str
    reason: str
    filed_at: datetime
    square_miles: float
    window_hours: float
    expires_at: datetime
    residents_notified: int
    clips_shared: int
    clips_revoked: int


class TransparencyTotals(BaseModel):
    """Sums over the report's requests."""

    requests_filed: int
    square_miles_total: float
    square_miles_median: float | None
    window_hours_total: float
    window_hours_median: float | None
    residents_notified: int
    clips_shared: int
    clips_revoked: int
    break_glass_accesses: int


class TransparencyReport(BaseModel):
    """The public transparency report, overall or of one agency."""

    agency: str | None
    generated_at: datetime
    totals: TransparencyTotals
    requests: list[TransparencyRow]
