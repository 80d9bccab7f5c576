"""Request and response shapes of subscriptions, channels and the delivery log."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from townsquare import geo, taxonomy
from townsquare.alerts.models import DELIVERY_STATUSES as DELIVERY_STATUSES

MIN_RADIUS_M, MAX_RADIUS_M = 100.0, 10_000.0
MAX_POLYGON_VERTICES = 500
MAX_POLYGON_EXTENT_M = 20_000.0
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class CircleIn(BaseModel):
    """A watch circle, 100 m to 10 km."""

    type: Literal["circle"] = "circle"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(ge=MIN_RADIUS_M, le=MAX_RADIUS_M)


class PolygonIn(BaseModel):
    """A watch polygon as GeoJSON coordinates: outer ring then holes, [lon, lat] pairs."""

    type: Literal["polygon"] = "polygon"
    coordinates: list[list[tuple[float, float]]] = Field(min_length=1)

    @field_validator("coordinates")
    @classmethod
    def _valid_rings(
        cls, rings: list[list[tuple[float, float]]]
    ) -> list[list[tuple[float, float]]]:
        if sum(len(r) for r in rings) > MAX_POLYGON_VERTICES:
            raise ValueError(f"at most {MAX_POLYGON_VERTICES} vertices")
        for ring in rings:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError("each ring needs 4+ positions and must be closed")
            for lon, lat in ring:
                geo.Point(lat, lon)  # raises on out-of-range values
        outer = rings[0]
        lats, lons = [p[1] for p in outer], [p[0] for p in outer]
        if geo.haversine_m(min(lats), min(lons), max(lats), max(lons)) > MAX_POLYGON_EXTENT_M:
            raise ValueError(f"the polygon must fit in {MAX_POLYGON_EXTENT_M / 1000:g} km")
        return rings


class QuietHours(BaseModel):
    """Local hours in which only the most severe alerts go out at once."""

    start: str
    end: str
    time_zone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not HHMM.match(value):
            raise ValueError("expected HH:MM (24 h)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class EmailChannelIn(BaseModel):
    """Alerts by e-mail."""

    kind: Literal["email"]
    address: str = Field(max_length=254)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value


class WebhookChannelIn(BaseModel):
    """Alerts POSTed as signed JSON to a URL."""

    kind: Literal["webhook"]
    url: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$")


class PushKeys(BaseModel):
    """The browser's keys from PushSubscription.toJSON()."""

    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class WebPushChannelIn(BaseModel):
    """Alerts as Web Push to a browser; `endpoint` and `keys` as the browser gives them."""

    kind: Literal["webpush"]
    endpoint: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$")
    keys: PushKeys


ChannelIn = Annotated[
    EmailChannelIn | WebhookChannelIn | WebPushChannelIn, Field(discriminator="kind")
]


class SubscriptionIn(BaseModel):
    """A new watch area."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    area: Annotated[CircleIn | PolygonIn, Field(discriminator="type")]
    categories: list[str] = Field(default_factory=list, max_length=50)
    min_severity: int = Field(default=1, ge=1, le=5)
    urgent_severity: int = Field(
        default=4, ge=1, le=6, description="From this severity, at once; below: in the digest"
    )
    quiet_hours: QuietHours | None = None
    channels: list[ChannelIn] = Field(min_length=1, max_length=5)

    @field_validator("categories")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if not taxonomy.is_known_filter(c)]
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        return codes

    @model_validator(mode="after")
    def _one_webhook_url_once(self) -> SubscriptionIn:
        urls = [c.url for c in self.channels if isinstance(c, WebhookChannelIn)]
        if len(urls) != len(set(urls)):
            raise ValueError("the same webhook URL is given twice")
        return self


class ChannelOut(BaseModel):
    """A channel as its owner sees it (the webhook secret is shown once, at creation)."""

    id: int
    kind: str
    target: dict[str, object]
    active: bool
    confirmed: bool = Field(
        description="false: an e-mail address that has not followed its confirmation link yet; "
        "nothing is sent to it before"
    )


class CoverOut(BaseModel):
    """A watch area as the server keeps it: H3 cells only (the shape stays in the browser)."""

    type: Literal["cover"] = "cover"
    resolution: int = Field(description="the finest resolution among the cells")
    cells: list[str] = Field(description="H3 cells (hex); the area is their union")


class SubscriptionOut(BaseModel):
    """A watch area as its owner sees it."""

    id: int
    name: str
    area: CoverOut
    categories: list[str]
    min_severity: int
    urgent_severity: int
    quiet_hours: QuietHours | None
    channels: list[ChannelOut]
    created_at: datetime


class SubscriptionCreated(BaseModel):
    """The answer to a new subscription: the manage token and webhook secrets, once."""

    subscription: SubscriptionOut
    manage_token: str = Field(description="Keep it: it is the only way to manage this area")
    webhook_secrets: dict[int, str] = Field(description="HMAC-SHA256 keys by channel id")


class SubscriptionExists(BaseModel):
    """The answer when an e-mail address already watches this very area: no second one."""

    status: Literal["exists"] = "exists"
    detail: str = Field(
        default="This address already watches this area. If it has not confirmed yet, a new "
        "confirmation link was mailed to it; otherwise nothing changed."
    )


class DeliveryOut(BaseModel):
    """One entry of the delivery log."""

    id: int
    channel_id: int
    channel_kind: str
    incident_id: int | None
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
