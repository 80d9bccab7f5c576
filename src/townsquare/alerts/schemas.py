"""Request and response shapes of subscriptions, channels and the delivery log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from townsquare import shapes, taxonomy
from townsquare.alerts.channels import registry as channels
from townsquare.alerts.models import DELIVERY_STATUSES as DELIVERY_STATUSES

MIN_RADIUS_M, MAX_RADIUS_M = 100.0, 10_000.0
MAX_POLYGON_VERTICES = 500
MAX_POLYGON_EXTENT_M = 20_000.0
WATCH_POLYGON = shapes.Limits(MAX_POLYGON_VERTICES, MAX_POLYGON_EXTENT_M)
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CircleIn(BaseModel):
    """A watch circle, 100 m to 10 km."""

    type: Literal["circle"] = "circle"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(ge=MIN_RADIUS_M, le=MAX_RADIUS_M)

    @model_validator(mode="after")
    def _on_the_globe(self) -> CircleIn:
        shapes.check_circle(self.lat, self.lon, self.radius_m, max_radius_m=MAX_RADIUS_M)
        return self


class PolygonIn(BaseModel):
    """A watch polygon as GeoJSON coordinates: outer ring then holes, [lon, lat] pairs."""

    type: Literal["polygon"] = "polygon"
    coordinates: list[list[tuple[float, float]]] = Field(min_length=1)

    @field_validator("coordinates")
    @classmethod
    def _valid_rings(
        cls, rings: list[list[tuple[float, float]]]
    ) -> list[list[tuple[float, float]]]:
        shapes.check_polygon(rings, WATCH_POLYGON)  # a ShapeError names the rule broken
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


@dataclass(frozen=True, slots=True)
class ChannelRequest:
    """One channel of a new subscription: its kind and that kind's validated `Target`."""

    kind: str
    target: BaseModel

    def key(self) -> tuple[str, str]:
        """What makes two requested channels the same."""
        return self.kind, self.target.model_dump_json()


def _channel(value: Any) -> ChannelRequest:
    kind = _KindIn.model_validate(value).kind  # a ValidationError keeps its field (`kind`)
    fields = {key: item for key, item in value.items() if key != "kind"}
    return ChannelRequest(kind, channels.channel_for(kind).Target.model_validate(fields))


class _KindIn(BaseModel):
    kind: str = Field(max_length=16)

    @field_validator("kind")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in channels.known_channels():
            known = ", ".join(channels.known_channels())
            raise ValueError(f"unknown channel kind {value!r}; known kinds: {known}")
        return value


class ChannelIn:
    """A channel as a subscription gives it: `kind`, then the fields its kind's Target asks.

    Validated against the channel registry on every request, so a kind registered after
    start is accepted, and the OpenAPI schema lists the kinds known when it is generated.
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate by the registry; serialize as the kind plus its target's fields."""
        return core_schema.no_info_plain_validator_function(
            _channel,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda c: {"kind": c.kind, **c.target.model_dump(mode="json")}
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """One alternative per registered kind, told apart by `kind`."""
        options = []
        for kind in channels.known_channels():
            target = channels.channel_for(kind).Target
            found = handler.resolve_ref_schema(handler(target.__pydantic_core_schema__))
            options.append(
                {
                    **found,
                    "title": f"{kind} channel",
                    "properties": {"kind": {"const": kind}, **found.get("properties", {})},
                    "required": ["kind", *found.get("required", [])],
                }
            )
        return {"oneOf": options}


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
    channels: list[Annotated[ChannelRequest, ChannelIn]] = Field(min_length=1, max_length=5)

    @field_validator("categories")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if not taxonomy.is_known_filter(c)]
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        return codes

    @model_validator(mode="after")
    def _one_target_once(self) -> SubscriptionIn:
        seen = set()
        for given in self.channels:
            refused = channels.channel_for(given.kind).duplicate_error
            if refused and given.key() in seen:
                raise ValueError(refused)
            seen.add(given.key())
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


class AreaPlan(BaseModel):
    """What an area receives, in words (each a whole sentence): the alerts page shows it."""

    about: str = Field(description="its categories")
    now: str = Field(description="what is sent at once")
    digest: str = Field(description="what waits for the digest, and how often it is sent")
    never: str | None = Field(description="what is never sent (below the minimum severity)")
    quiet: str | None = Field(description="its quiet hours and what they hold back")
    curated: str = Field(description="what becomes of an alert the curation team sends")


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
    plan: AreaPlan | None = Field(
        default=None, description="what it receives at once, in the digest, or never, in words"
    )


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
