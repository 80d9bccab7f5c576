"""One raw item -> one normalized record (taxonomy code, exact point, UTC time), or a reason.

Pure: no I/O, no clock. A record that cannot be normalized raises NormalizeError naming the
payload column at fault; the core quarantines it (kept, counted, replayable), never drops it.
Fields are checked in a fixed order (row, call type, time, point, id), so the first fault
found is the one reported.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from townsquare.errors import TownsquareError
from townsquare.geo import Point
from townsquare.ingest import parts
from townsquare.ingest.cap_events import CAP_SUMMARY, category_of, default_categories, folded
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.fields import FieldSpec, PairSpec, TimeSpec
from townsquare.ingest.sources.base import RawItem

UNMAPPED_CATEGORY = "other"
"""Category of a held call type that [categories] does not map (never alerted)."""
ROW_FIELD = "_row"
"""Field named by the error of a record the adapter could not read faithfully."""
MAX_ID_LENGTH = 128
MAX_CALL_TYPE_LENGTH = 200
MAX_UNIT_LENGTH = 64
"""The stored columns' sizes: a longer value is quarantined with its field named, not cut, and
never left to fail the whole batch on a database that enforces lengths (PostgreSQL)."""
MAX_SUMMARY_LENGTH = 5000
"""A record's own text longer than this is cut at a word (an agency update's limit)."""
_PAIR = re.compile(r"^\(?\s*([^,()\s]+)\s*,\s*([^,()\s]+)\s*\)?$")
_BLANK_LINE = re.compile(r"\n\s*\n")
_HOUR_24 = re.compile(r"(?<=[T\s])24(?=:)")
_CLOCK = re.compile(r"(?:^|[T\s])(\d{1,2}):(\d{2})")


_Text = TypeVar("_Text", str, str | None)


def _bounded(field: str, value: _Text, limit: int) -> _Text:
    """`value` if it fits its column; NormalizeError naming `field` if it is longer."""
    if value is not None and len(value) > limit:
        raise NormalizeError(field, f"{len(value)} characters, longer than the {limit} allowed")
    return value


class NormalizeError(TownsquareError):
    """A record that cannot be normalized; `field` is the payload column at fault."""

    status = 422
    title = "Record not normalized"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NormalizedRecord:
    """A dispatch record in our terms, before redaction and the policy gate."""

    external_id: str
    """From the id column, else "h:" + SHA-256 of the id_from_content cells (stable)."""
    original_type: str
    category: str
    """Taxonomy code from the source's [categories] table."""
    address: str | None
    """As the source gives it, NOT yet redacted."""
    point: Point | None
    """Exact as given; coarsening happens later. None: to be placed from `address`."""
    occurred_at: datetime
    """Timezone-aware UTC."""
    unit: str | None
    mapped: bool = True
    """False: the call type is not in [categories] and `category` is the placeholder."""
    version_at: datetime | None = None
    """The record's own last-modified time ([lifecycle] version), if the source gives one."""
    cleared_at: datetime | None = None
    """When the call was cleared, if this record says it is closed."""
    scene: str | None = None
    """The [lifecycle] scene columns joined: records of one scene merge into one incident."""
    severity: int | None = None
    """The record's own severity 1..5 ([fields] severity), else the category's."""
    expires_at: datetime | None = None
    """When the record stops being current ([lifecycle] expires), if the source says."""
    summary: str | None = None
    """The record's own text ([fields] summary), NOT yet redacted; None: it has none."""
    precision: str = "coordinates"
    """How the point is known: coordinates given, or the geocoder's precision, or "area"."""
    occurred_later: datetime | None = None
    """The second reading of a local time that happens twice (clocks went back), when the
    mapping lets the feed decide (`ambiguous = "infer"`): see ingest.ambiguity."""

    @property
    def key(self) -> str:
        """The identity of this record among the source's: its id, and its unit if any."""
        return self.external_id if self.unit is None else f"{self.external_id}/{self.unit}"


def normalize(item: RawItem, config: SourceConfig) -> NormalizedRecord:
    """The normalized form of `item` under `config`, or NormalizeError naming the field.

    An item read by ingest.columnar carries its answer for the config it was read under.
    """
    done = item.normalized
    if done is not None and done[0] is config:
        found = done[1]
        if isinstance(found, NormalizeError):
            raise NormalizeError(found.field, found.reason)
        if isinstance(found, NormalizedRecord):
            return found
    return plan_for(config).normalize(item)


def content_id(payload: dict[str, str], columns: list[str]) -> str:
    """A stable id from the given cells: "h:" + SHA-256 of their names and stripped values."""
    pairs = [[column, payload.get(column, "").strip()] for column in columns]
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_PLANS: dict[int, tuple[SourceConfig, Plan]] = {}
MAX_PLANS = 64
CACHE_SIZE = 65_536
"""Distinct time strings remembered per time column (a feed repeats them: one per minute)."""


def plan_for(config: SourceConfig) -> Plan:
    """The compiled plan of `config`, built once per configuration object (configs are frozen)."""
    found = _PLANS.get(id(config))
    if found is not None and found[0] is config:
        return found[1]
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    plan = Plan(config)
    _PLANS[id(config)] = (config, plan)  # the config is kept, so its id is not reused
    return plan


class _TimeColumn:
    """One `occurred_at` column: its spec, its zone, and the strings already parsed."""

    __slots__ = ("cache", "column", "epoch_divisor", "spec", "zone")

    def __init__(self, spec: TimeSpec, default_zone: str) -> None:
        self.spec = spec
        self.column = spec.key
        self.zone = ZoneInfo(spec.time_zone or default_zone)
        self.cache: dict[str, tuple[datetime, datetime | None]] = {}
        # Epoch times are rarely repeated, so they skip the cache: one division, one call.
        only = spec.formats[0] if len(spec.formats) == 1 and spec.offset == "use" else None
        self.epoch_divisor = {"epoch_s": 1, "epoch_ms": 1000}.get(only or "")

    def parse(self, value: str) -> datetime:
        """`value` as UTC; a string seen before is not parsed again (errors are not kept)."""
        return self.readings(value)[0]

    def readings(self, value: str) -> tuple[datetime, datetime | None]:
        """`value` as UTC, and its second reading if it is a local time that happens twice
        and the column lets the feed decide (`ambiguous = "infer"`)."""
        if self.epoch_divisor is not None:
            try:
                return datetime.fromtimestamp(float(value) / self.epoch_divisor, UTC), None
            except (ValueError, OverflowError, OSError):
                return parse_readings(value, self.spec, self.zone)  # raises, naming the column
        found = self.cache.get(value)
        if found is None:
            found = parse_readings(value, self.spec, self.zone)
            if len(self.cache) >= CACHE_SIZE:
                self.cache.clear()
            self.cache[value] = found
        return found


class Plan:
    """A source's mapping compiled once: columns, zones and rules looked up before any row.

    The configuration was validated when it was loaded; the plan only reads it, so a row
    costs dictionary lookups, and a time string (or a lifecycle time) seen before is not
    parsed again.
    """

    def __init__(self, config: SourceConfig) -> None:
        fields = config.fields
        self.config = config
        self.missing = frozenset({"", *(m.strip() for m in fields.missing)})
        specs: list[FieldSpec | None] = [
            fields.external_id,
            fields.call_type,
            fields.address,
            fields.unit,
            fields.location,
            fields.latitude,
            fields.longitude,
            fields.severity,
            *fields.occurred_at,
        ]
        self.derived = [
            (spec.key, parts.reader(spec)) for spec in specs if spec is not None and spec.derived()
        ]
        self.why_missing = {
            spec.key: parts.describe(spec) for spec in specs if spec is not None and spec.derived()
        }
        self.call_type = fields.call_type.key
        self.categories = {**default_categories(config), **config.categories}
        cap = default_categories(config)  # CAP event names match however cased or spaced
        self.folded = folded(self.categories) if cap else None
        self.summary = fields.summary or (list(CAP_SUMMARY) if cap else [])
        self.severity = fields.severity.key if fields.severity else None
        self.quarantine_unmapped = config.unmapped == "quarantine"
        self.times = [_TimeColumn(spec, config.time_zone) for spec in fields.occurred_at]
        self.address = fields.address.key if fields.address else None
        self.geocodes = fields.geocodes()
        # with coordinates mapped, a [geocode] table places the rows that come without them
        self.geocode_missing = "geocode" in config.model_fields_set and fields.address is not None
        self.unit = fields.unit.key if fields.unit else None
        self.location = fields.location
        self.latitude = fields.latitude
        self.longitude = fields.longitude
        self.bbox = config.bbox
        self.id_spec = fields.external_id
        self.id_from_content = fields.id_from_content
        rules = config.lifecycle
        first = fields.occurred_at[0]
        self.version = self._lifecycle_column(rules.version, first, config.time_zone)
        self.cleared = self._lifecycle_column(rules.cleared_at, first, config.time_zone)
        self.expires = self._lifecycle_column(rules.expires, first, config.time_zone)
        self.status = rules.status
        self.closed_values = {value.casefold() for value in rules.closed_values}
        self.scene = rules.scene
        self.closes = self.cleared is not None or self.status is not None
        self.id_column = self.id_spec.key if self.id_spec else None
        spec = self.id_spec
        joined = spec is not None and len(spec.columns) > 1 and not spec.derived()
        self.id_joined = spec if joined else None

    @staticmethod
    def _lifecycle_column(column: str | None, first: TimeSpec, zone: str) -> _TimeColumn | None:
        # Lifecycle times are read with the first occurred_at column's formats and zone.
        if column is None:
            return None
        return _TimeColumn(first.for_column(column), zone)

    def get(self, payload: dict[str, str], column: str) -> str | None:
        """The stripped cell, or None if absent or a missing marker."""
        value = payload.get(column)
        if value is None:
            return None
        value = value.strip()
        return None if value in self.missing else value

    def need(self, payload: dict[str, str], column: str) -> str:
        """The stripped cell; NormalizeError "missing" names the column otherwise."""
        value = self.get(payload, column)
        if value is None:
            raise NormalizeError(column, self.why_missing.get(column, "missing"))
        return value

    def normalize(self, item: RawItem) -> NormalizedRecord:
        """The normalized form of `item`, or NormalizeError naming the field."""
        if item.defect is not None:
            raise NormalizeError(item.defect_field or ROW_FIELD, item.defect)
        payload = item.payload
        if self.derived:
            payload = dict(payload)
            for key, read in self.derived:
                value = read(item.payload, self.missing)
                if value is not None:
                    payload[key] = value
                else:
                    payload.pop(key, None)
        call_type = _bounded(
            self.call_type, self.need(payload, self.call_type), MAX_CALL_TYPE_LENGTH
        )
        code = self.categories.get(call_type)
        if code is None and self.folded is not None:
            code = category_of(self.folded, call_type)
        if code is None and self.quarantine_unmapped:
            raise NormalizeError(self.call_type, f"call type {call_type!r} is not mapped")
        occurred_at, later = self._occurred_at(payload)
        point = self._point(payload)
        return NormalizedRecord(
            external_id=self._external_id(payload),
            original_type=call_type,
            category=code or UNMAPPED_CATEGORY,
            address=self.get(payload, self.address) if self.address else None,
            point=point,
            occurred_at=occurred_at,
            unit=_bounded(self.unit, self.get(payload, self.unit), MAX_UNIT_LENGTH)
            if self.unit
            else None,
            mapped=code is not None,
            version_at=self._lifecycle_time(payload, self.version) if self.version else None,
            cleared_at=self._cleared_at(payload, occurred_at) if self.closes else None,
            scene=self._scene(payload) if self.scene else None,
            severity=self._severity(payload) if self.severity else None,
            expires_at=self._lifecycle_time(payload, self.expires) if self.expires else None,
            summary=self._summary(payload) if self.summary else None,
            occurred_later=later,
        )

    def _summary(self, payload: dict[str, str]) -> str | None:
        """The summary cells joined, a cell another already holds said once, cut at a word."""
        kept: list[str] = []
        for cell in (_paragraphs(self.get(payload, column) or "") for column in self.summary):
            if cell and not any(cell in part for part in kept):
                kept = [part for part in kept if part not in cell] + [cell]
        text = "\n\n".join(kept)
        if len(text) > MAX_SUMMARY_LENGTH:
            text = text[: MAX_SUMMARY_LENGTH - 1].rsplit(" ", 1)[0] + "\u2026"
        return text or None

    def _severity(self, payload: dict[str, str]) -> int | None:
        value = self.get(payload, self.severity or "")
        if value is None:
            return None
        if value not in {"1", "2", "3", "4", "5"}:
            raise NormalizeError(self.severity or "", f"severity {value!r} is not 1..5")
        return int(value)

    def _occurred_at(self, payload: dict[str, str]) -> tuple[datetime, datetime | None]:
        for time in self.times:
            value = self.get(payload, time.column)
            if value is not None:
                return time.readings(value)
        names = ", ".join(time.column for time in self.times)
        first = self.times[0].column
        alone = self.why_missing.get(first, "missing")
        raise NormalizeError(first, alone if len(self.times) == 1 else f"{names}: all missing")

    def _lifecycle_time(self, payload: dict[str, str], time: _TimeColumn | None) -> datetime | None:
        if time is None:
            return None
        value = self.get(payload, time.column)
        return None if value is None else time.parse(value)

    def _cleared_at(self, payload: dict[str, str], occurred_at: datetime) -> datetime | None:
        cleared = self._lifecycle_time(payload, self.cleared)
        if cleared is not None:
            return max(cleared, occurred_at)
        if self.status is not None:
            status = (self.get(payload, self.status) or "").casefold()
            if status in self.closed_values:
                # No clear time given: the record's version time, else the call's own time.
                return self._lifecycle_time(payload, self.version) or occurred_at
        return None

    def _scene(self, payload: dict[str, str]) -> str | None:
        parts = [self.get(payload, column) for column in self.scene]
        if any(p is None for p in parts):
            return None
        scene = "|".join(p for p in parts if p)
        if len(scene) > MAX_ID_LENGTH:  # a stable digest stands in, as for long ids
            return "h:" + hashlib.sha256(scene.encode("utf-8")).hexdigest()
        return scene

    def _external_id(self, payload: dict[str, str]) -> str:
        if self.id_joined is not None:
            spec = self.id_joined
            parts = [self.get(payload, column) for column in spec.columns]
            found: str | None = None
            if all(part is not None for part in parts):
                found = spec.separator.join(p for p in parts if p is not None)
        elif self.id_column is not None:
            found = self.get(payload, self.id_column)
        else:
            found = None
        if found is not None:
            if len(found) > MAX_ID_LENGTH:
                # Some feeds use URLs as ids (CAP index entries): a stable digest stands in.
                return "h:" + hashlib.sha256(found.encode("utf-8")).hexdigest()
            return found
        if self.id_from_content:
            return content_id(payload, self.id_from_content)
        assert self.id_column is not None  # FieldsConfig requires an id or content columns
        reason = self.why_missing.get(self.id_column, "missing")
        raise NormalizeError(self.id_column, f"{reason}, and no id_from_content columns to hash")

    def _point(self, payload: dict[str, str]) -> Point | None:
        if self.geocodes:
            return None  # placed from the address by ingest.geocoding
        if self.geocode_missing and self._no_coordinates(payload):
            return None  # this row alone is placed from its address
        if self.location is not None:
            lat, lon = pair_of(self.need(payload, self.location.key), self.location)
            lat_field = lon_field = self.location.key
        else:
            assert self.latitude is not None
            assert self.longitude is not None
            lat_field, lon_field = self.latitude.key, self.longitude.key
            lat = _number(lat_field, self.need(payload, lat_field), self.latitude.scale)
            lon = _number(lon_field, self.need(payload, lon_field), self.longitude.scale)
        return check_point(lat, lon, lat_field, lon_field, self.bbox)

    def _no_coordinates(self, payload: dict[str, str]) -> bool:
        """True if the row's coordinate cells are empty (or the 0, 0 placeholder)."""
        if self.location is not None:
            cells = [self.get(payload, self.location.key)]
        else:
            assert self.latitude is not None
            assert self.longitude is not None
            cells = [self.get(payload, self.latitude.key), self.get(payload, self.longitude.key)]
        if any(cell is None for cell in cells):
            return True
        numbers = "".join(c or "" for c in cells).replace(",", "").replace(" ", "").replace(".", "")
        return set(numbers) <= {"0", "-", "+"}


def _paragraphs(text: str) -> str:
    """Paragraphs kept, the line breaks and indents of pretty-printed XML inside them not."""
    return "\n\n".join(" ".join(p.split()) for p in _BLANK_LINE.split(text) if p.strip())


# --- point ---------------------------------------------------------------------------------


def check_point(
    lat: float,
    lon: float,
    lat_field: str,
    lon_field: str,
    bbox: tuple[float, float, float, float] | None,
) -> Point:
    """The point (lat, lon), or NormalizeError naming the field: a placeholder, out of range,
    outside the source's bbox, or swapped."""
    if 0 < abs(lat) <= 90 and abs(lon) <= 180 and (bbox is None or _inside(lat, lon, bbox)):
        return Point(lat, lon)  # the usual case, before the checks that explain faults
    return _checked_point(lat, lon, lat_field, lon_field, bbox)


def _checked_point(
    lat: float,
    lon: float,
    lat_field: str,
    lon_field: str,
    bbox: tuple[float, float, float, float] | None,
) -> Point:
    if lat == 0 and lon == 0:
        raise NormalizeError(lat_field, "(0, 0) is a placeholder for no position")
    if abs(lat) > 90:
        if abs(lon) <= 90:
            raise NormalizeError(
                lat_field,
                f"latitude {lat} is out of range but longitude {lon} is not: "
                "the coordinates look swapped",
            )
        raise NormalizeError(lat_field, f"latitude {lat} is out of range [-90, 90]")
    if abs(lon) > 180:
        raise NormalizeError(lon_field, f"longitude {lon} is out of range [-180, 180]")
    if bbox is not None and not _inside(lat, lon, bbox):
        reason = f"point ({lat}, {lon}) is outside the source's bbox {list(bbox)}"
        if _inside(lon, lat, bbox):
            reason += "; swapped it would be inside: the coordinates look swapped"
        raise NormalizeError(lat_field, reason)
    return Point(lat, lon)


def _inside(lat: float, lon: float, bbox: tuple[float, float, float, float]) -> bool:
    west, south, east, north = bbox
    return west <= lon <= east and south <= lat <= north


def _number(column: str, text: str, scale: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise NormalizeError(column, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise NormalizeError(column, f"{text!r} is not a finite number")
    return value * scale


def pair_of(text: str, spec: PairSpec) -> tuple[float, float]:
    """(lat, lon) of a "(a, b)" cell in the spec's order; NormalizeError naming its column."""
    match = _PAIR.match(text)
    if match is None:
        raise NormalizeError(spec.key, f"{text!r} is not a '(a, b)' coordinate pair")
    first = _number(spec.key, match[1], spec.scale)
    second = _number(spec.key, match[2], spec.scale)
    return (first, second) if spec.order == "lat_lon" else (second, first)


# --- time ----------------------------------------------------------------------------------


def parse_time(value: str, spec: TimeSpec, zone: ZoneInfo) -> datetime:
    """`value` (already stripped) read by the first matching format of `spec`, as UTC."""
    return parse_readings(value, spec, zone)[0]


def parse_readings(value: str, spec: TimeSpec, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """As `parse_time`, with the second reading of a wall time that happens twice when
    `spec.ambiguous` is "infer" (None otherwise)."""
    for fmt in spec.formats:
        parsed = _parse_one(value, fmt, spec)
        if parsed is None:
            continue
        if parsed.tzinfo is not None and spec.offset == "use":
            return parsed.astimezone(UTC), None
        return _localize_both(parsed.replace(tzinfo=None), zone, spec)
    raise NormalizeError(spec.key, _unparsed_reason(value, spec))


def _parse_one(value: str, fmt: str, spec: TimeSpec) -> datetime | None:
    if fmt in ("epoch_s", "epoch_ms"):
        try:
            seconds = float(value) / (1000 if fmt == "epoch_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    if fmt == "iso8601":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    parsed = _strptime(value, fmt)
    if parsed is None and spec.hour_24 != "reject" and "%H" in fmt:
        replacement = "00" if spec.hour_24 == "next_day" else "12"
        parsed = _strptime(_HOUR_24.sub(replacement, value, count=1), fmt)
        if parsed is not None and spec.hour_24 == "next_day":
            parsed += timedelta(days=1)
    if parsed is not None and "%p" in fmt and _pm_bug(parsed, spec):
        parsed = parsed.replace(hour=0)
    return parsed


def _pm_bug(parsed: datetime, spec: TimeSpec) -> bool:
    # Under %I with %p only "12:xx PM" parses to hour 12.
    cutoff = spec.twelve_pm_means_midnight_before
    return cutoff is not None and parsed.hour == 12 and parsed.date() < cutoff


def _strptime(value: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def _unparsed_reason(value: str, spec: TimeSpec) -> str:
    clock = _CLOCK.search(value)
    if clock is not None:
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23:
            return f"hour {hour} is out of range"
        if minute > 59:
            return f"minute {minute} is out of range"
    return f"{value!r} matches none of the formats {spec.formats}"


def localize(naive: datetime, zone: ZoneInfo, spec: TimeSpec) -> datetime:
    """A wall-clock time in `zone` as UTC, resolving DST overlaps and gaps per `spec`."""
    return _localize_both(naive, zone, spec)[0]


def _localize_both(
    naive: datetime, zone: ZoneInfo, spec: TimeSpec
) -> tuple[datetime, datetime | None]:
    earlier = naive.replace(tzinfo=zone, fold=0)
    later = naive.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier.astimezone(UTC), None
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        # In a spring-forward gap: fold=0 reads it with the offset before the change,
        # which lands the same length of time after the gap (02:30 -> 03:30).
        return earlier.astimezone(UTC), None
    if spec.ambiguous == "infer":  # the batch decides (ingest.ambiguity)
        return earlier.astimezone(UTC), later.astimezone(UTC)
    if spec.ambiguous == "reject":
        raise NormalizeError(
            spec.key, f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks went back)"
        )
    return (later if spec.ambiguous == "later" else earlier).astimezone(UTC), None
