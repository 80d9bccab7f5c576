"""A feed source declared by one TOML file: where to read it and how its fields map to ours.

Onboarding a city means writing one of these files (examples in `ingest/mappings/`), never
code. Every column reference is a `column`: a key of the flat payload an adapter yields.
CSV keys are header names; adapters of nested formats (JSON, ArcGIS) flatten to dotted
paths ("attributes.CALL_TIME"), so the same mapping shape serves every kind. Numbers that
need scaling (integer micro-degrees) say `scale`; epoch times use the formats `epoch_s` /
`epoch_ms`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from townsquare import geo, taxonomy
from townsquare.errors import ConfigError
from townsquare.ingest.fields import (
    CoordinateSpec,
    FieldSpec,
    GeocodeConfig,
    IdSpec,
    PairSpec,
    TimeSpec,
    zone_name,
)
from townsquare.ingest.options import HttpOptions, LifecycleConfig, PushOptions
from townsquare.ingest.sources.registry import known_kinds, options_of

MAPPINGS_DIR = Path(__file__).parent / "mappings"
LEGACY_KIND_TABLES = ("csv", "arcgis", "socrata", "json_", "feed")
"""The kind tables every stored configuration held before each kind declared its own."""
OptionsT = TypeVar("OptionsT", bound=BaseModel)


_zone = zone_name
__all__ = [
    "CoordinateSpec",
    "FieldSpec",
    "FieldsConfig",
    "GeocodeConfig",
    "IdSpec",
    "PairSpec",
    "SourceConfig",
    "TimeSpec",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldsConfig(_Model):
    """Which payload columns give each normalized field (the `[fields]` table)."""

    external_id: IdSpec | None = None
    id_from_content: list[str] = Field(default_factory=list)
    """Columns hashed into a stable id ("h:" + SHA-256) when the id column is empty."""
    call_type: FieldSpec
    occurred_at: list[TimeSpec] = Field(min_length=1)
    address: FieldSpec | None = None
    latitude: CoordinateSpec | None = None
    longitude: CoordinateSpec | None = None
    location: PairSpec | None = None
    unit: FieldSpec | None = None
    severity: FieldSpec | None = None
    """Column with the record's own severity 1..5 (the cap kind's "level"); empty or absent:
    the category's severity."""
    missing: list[str] = Field(default_factory=list)
    """Cell values that mean "no value" besides the empty string (e.g. "null")."""
    summary: list[str] = Field(default_factory=list)
    """Columns with the record's own text (CAP: headline, description), joined as the
    incident's public summary after the privacy scrub; none: the summary counts units."""

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            raise ValueError(
                "a list here is of time tables tried in order; to join a date and a time "
                "column write occurred_at = { columns = [...], formats = [...] } or "
                'template = "{DATE} {TIME}"'
            )
        return [value] if isinstance(value, str | dict) else value

    @model_validator(mode="after")
    def _coherent(self) -> FieldsConfig:
        separate = (self.latitude is not None, self.longitude is not None)
        if separate == (True, True) and self.location is not None:
            raise ValueError("give either latitude + longitude or location, not both")
        if separate == (False, False) and self.location is None and self.address is None:
            raise ValueError(
                "give latitude + longitude, location (a '(lat, lon)' column), or an address "
                "to geocode"
            )
        if separate in {(True, False), (False, True)}:
            raise ValueError("latitude and longitude go together")
        if self.external_id is None and not self.id_from_content:
            raise ValueError("give external_id, id_from_content, or both")
        return self

    def columns(self) -> set[str]:
        """Every payload column this mapping reads."""
        specs: list[FieldSpec | None] = [
            self.call_type,
            self.address,
            self.latitude,
            self.longitude,
            self.location,
            self.unit,
            self.severity,
            *self.occurred_at,
        ]
        found = {column for spec in specs if spec is not None for column in spec.sources()}
        found.update(self.id_from_content)
        found.update(self.summary)
        if self.external_id is not None:
            found.update(self.external_id.sources())
        return found

    def geocodes(self) -> bool:
        """True if records are placed from their address: no coordinate column is mapped."""
        return self.location is None and self.latitude is None


class AgencyConfig(_Model):
    """The agency that runs the feed."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1)
    time_zone: str

    @field_validator("time_zone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        return _zone(value)


class SourceConfig(_Model):
    """One feed of one agency, as declared in its TOML file.

    The tables every kind may carry are fields here; a kind's own options (`[csv]`,
    `[arcgis]`, a third-party kind's `[options]`) are validated by the `Options` model the
    kind declares: validating a SourceConfig gives an instance of `config_model(kind)`, which
    adds that table as a field of the same name. A kind that declares none takes no such table.
    """

    model_config = ConfigDict(populate_by_name=False, serialize_by_alias=True)
    options_field: ClassVar[str | None] = None
    """The field holding the kind's own options: named after its table (`json_` for `json`)."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    agency: AgencyConfig
    location: str = ""
    """http(s) URL, or an absolute file path (relative paths are resolved on load); a push
    source may leave it empty."""
    time_zone: str = ""
    """IANA zone of the feed's naive local times; default the agency's."""
    bbox: tuple[float, float, float, float] | None = None
    """Sanity box [west, south, east, north]: points outside it are rejected."""
    poll_interval_s: int | None = Field(default=None, ge=10)
    """Seconds between polls; none: fetched only on demand."""
    fields: FieldsConfig
    categories: dict[str, str] = Field(min_length=1)
    """Source call type (exact string) -> taxonomy code."""
    unmapped: Literal["hold", "quarantine"] = "hold"
    """A call type missing from [categories]: "hold" publishes it as `other`, never alerted
    and listed by `townsquare sources unknown-types`; "quarantine" keeps the raw record only."""
    http: HttpOptions = HttpOptions()
    lifecycle: LifecycleConfig = LifecycleConfig()
    push: PushOptions | None = None
    geocode: GeocodeConfig = GeocodeConfig()
    """How records without coordinates are placed from `fields.address`."""
    """Present: the source accepts POSTed records (kind "push" accepts nothing else)."""
    policy: dict[str, Any] | None = None
    """The `[policy]` table: tightens the privacy policy (read by townsquare.privacy)."""

    @model_validator(mode="wrap")
    @classmethod
    def _of_its_kind(cls, data: Any, handler: ModelWrapValidatorHandler[SourceConfig]) -> Any:
        if cls is not SourceConfig or not isinstance(data, dict):
            return handler(data)
        data = _upgrade_stored(data)
        model = config_model(str(data.get("kind", "")), _push_format(data))
        return handler(data) if model is SourceConfig else model.model_validate(data)

    @model_validator(mode="before")
    @classmethod
    def _default_zone(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("time_zone"):
            agency = data.get("agency")
            if isinstance(agency, dict) and isinstance(agency.get("time_zone"), str):
                return {**data, "time_zone": agency["time_zone"]}
        return data

    @field_validator("time_zone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("bbox")
    @classmethod
    def _valid_bbox(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is not None and not geo.bbox_is_valid(*value):
            raise ValueError("bbox must be [west, south, east, north] inside WGS 84")
        return value

    @field_validator("categories")
    @classmethod
    def _known_codes(cls, value: dict[str, str]) -> dict[str, str]:
        known = taxonomy.categories()
        wrong = [
            f"{call_type!r} -> {code!r}" for call_type, code in value.items() if code not in known
        ]
        if wrong:
            raise ValueError(f"unknown taxonomy code: {', '.join(wrong)}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SourceConfig:
        check = getattr(self.own_options(), "check_source", None)
        if callable(check):  # options that depend on the rest of the file (CSV columns)
            check(self)
        if self.kind == "push" and self.push is None:
            raise ValueError("kind push needs a [push] table")
        if not self.location and self.kind != "push":
            raise ValueError("location: give a URL or a file path")
        return self

    def is_url(self) -> bool:
        """True if `location` is fetched over HTTP rather than read from disk."""
        return self.location.startswith(("http://", "https://"))

    def reader_kind(self) -> str:
        """The kind whose reader parses this source's records: its own, or its push format."""
        return self.push.format if self.kind == "push" and self.push else self.kind

    def own_options(self) -> BaseModel | None:
        """The options of this source's (reader) kind; None for a kind that declares none."""
        field = type(self).options_field
        found = getattr(self, field) if field else None
        return found if isinstance(found, BaseModel) else None

    def kind_options(self, model: type[OptionsT]) -> OptionsT:
        """This source's own options, as the `Options` model of its (reader) kind."""
        found = self.own_options()
        if not isinstance(found, model):
            raise TypeError(f"{self.slug}: kind {self.reader_kind()!r} has no {model.__name__}")
        return found


def config_model(kind: str, push_format: str | None = None) -> type[SourceConfig]:
    """The model of a source file of `kind`: SourceConfig plus the table of its own options.

    A push source's records are read by its `[push] format`, so it takes that kind's table.
    """
    reader = push_format if kind == "push" and push_format else kind
    if reader not in known_kinds():
        return SourceConfig  # a kind no longer installed: its fetch fails, saying so
    found = options_of(reader)
    if found is None:
        return SourceConfig
    if found[0] in SourceConfig.model_fields:
        raise ConfigError(f"source kind {reader!r}: its options table {found[0]!r} is taken")
    return _with_options(*found)


@cache
def _with_options(table: str, model: type[BaseModel]) -> type[SourceConfig]:
    field = f"{table}_" if hasattr(BaseModel, table) else table  # `json` is a BaseModel method
    options: Any = (model, Field(default_factory=model, alias=table))
    made: type[SourceConfig] = create_model(
        f"{model.__name__}SourceConfig", __base__=SourceConfig, **{field: options}
    )
    made.options_field = field
    return made


def _push_format(data: dict[str, Any]) -> str | None:
    push = data.get("push")
    if isinstance(push, dict):
        return str(push.get("format", "json"))
    return None


def _upgrade_stored(data: dict[str, Any]) -> dict[str, Any]:
    """A configuration stored before kinds declared their options held every kind's table
    (its JSON one as `json_`): keep only the table of its own reader kind."""
    if "json_" not in data:
        return data
    reader = _push_format(data) if data.get("kind") == "push" else data.get("kind")
    own = "json_" if reader == "json" else reader
    upgraded = {k: v for k, v in data.items() if k not in LEGACY_KIND_TABLES or k == own}
    if own == "json_":
        upgraded["json"] = upgraded.pop("json_")
    return upgraded


def bundled_mappings() -> dict[str, Path]:
    """The source files shipped in the package, by name ("seattle_fire_911": its path)."""
    return {path.stem: path for path in sorted(MAPPINGS_DIR.glob("*.toml"))}


def load_source_config(path: Path) -> SourceConfig:
    """Read and validate a source TOML file; ConfigError names the file and the key."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    location = data.get("location")
    if isinstance(location, str) and location and not location.startswith(("http://", "https://")):
        data["location"] = str((path.parent / location).resolve())
    kind = data.get("kind")
    if isinstance(kind, str) and kind not in known_kinds():
        raise ConfigError(
            f"{path}: kind: unknown source kind {kind!r}; known kinds: {', '.join(known_kinds())}"
        )
    try:
        return SourceConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, data)}") from None


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            message = f"not a key of a {data.get('kind')!r} source ({message})"
        parts.append(f"{key}: {message}")
    return "; ".join(parts)
