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
from zoneinfo import ZoneInfo

from townsquare.errors import TownsquareError
from townsquare.geo import Point
from townsquare.ingest.config import (
    CoordinateSpec,
    FieldsConfig,
    PairSpec,
    SourceConfig,
    TimeSpec,
)
from townsquare.ingest.sources.base import RawItem

UNMAPPED_CATEGORY = "other"
"""Category of a held call type that [categories] does not map (never alerted)."""
ROW_FIELD = "_row"
"""Field named by the error of a record the adapter could not read faithfully."""
MAX_ID_LENGTH = 128
_PAIR = re.compile(r"^\(?\s*([^,()\s]+)\s*,\s*([^,()\s]+)\s*\)?$")
_HOUR_24 = re.compile(r"(?<=[T\s])24(?=:)")
_CLOCK = re.compile(r"(?:^|[T\s])(\d{1,2}):(\d{2})")


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
    point: Point
    """Exact as given; coarsening happens later."""
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

    @property
    def key(self) -> str:
        """The identity of this record among the source's: its id, and its unit if any."""
        return self.external_id if self.unit is None else f"{self.external_id}/{self.unit}"


def normalize(item: RawItem, config: SourceConfig) -> NormalizedRecord:
    """The normalized form of `item` under `config`, or NormalizeError naming the field."""
    if item.defect is not None:
        raise NormalizeError(ROW_FIELD, item.defect)
    fields = config.fields
    cells = _Cells(item.payload, fields)
    original_type, category = _category(cells, config)
    occurred_at = _occurred_at(cells, fields.occurred_at, config.time_zone)
    point = _point(cells, config)
    return NormalizedRecord(
        external_id=_external_id(cells, fields),
        original_type=original_type,
        category=category or UNMAPPED_CATEGORY,
        address=cells.get(fields.address.column) if fields.address else None,
        point=point,
        occurred_at=occurred_at,
        unit=cells.get(fields.unit.column) if fields.unit else None,
        mapped=category is not None,
        version_at=_lifecycle_time(cells, config, config.lifecycle.version),
        cleared_at=_cleared_at(cells, config, occurred_at),
        scene=_scene(cells, config.lifecycle.scene),
    )


def content_id(payload: dict[str, str], columns: list[str]) -> str:
    """A stable id from the given cells: "h:" + SHA-256 of their names and stripped values."""
    pairs = [[column, payload.get(column, "").strip()] for column in columns]
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Cells:
    """Stripped cell values, with the source's "missing" markers read as None."""

    def __init__(self, payload: dict[str, str], fields: FieldsConfig) -> None:
        self.payload = payload
        self.missing = {"", *(m.strip() for m in fields.missing)}

    def get(self, column: str) -> str | None:
        """The stripped cell, or None if absent or a missing marker."""
        value = self.payload.get(column)
        if value is None:
            return None
        value = value.strip()
        return None if value in self.missing else value

    def need(self, column: str) -> str:
        """The stripped cell; NormalizeError "missing" names the column otherwise."""
        value = self.get(column)
        if value is None:
            raise NormalizeError(column, "missing")
        return value


def _category(cells: _Cells, config: SourceConfig) -> tuple[str, str | None]:
    column = config.fields.call_type.column
    call_type = cells.need(column)
    code = config.categories.get(call_type)
    if code is None and config.unmapped == "quarantine":
        raise NormalizeError(column, f"call type {call_type!r} is not mapped")
    return call_type, code


def _lifecycle_time(cells: _Cells, config: SourceConfig, column: str | None) -> datetime | None:
    if column is None:
        return None
    value = cells.get(column)
    if value is None:
        return None
    spec = config.fields.occurred_at[0].model_copy(update={"column": column})
    return parse_time(value, spec, ZoneInfo(spec.time_zone or config.time_zone))


def _cleared_at(cells: _Cells, config: SourceConfig, occurred_at: datetime) -> datetime | None:
    rules = config.lifecycle
    cleared = _lifecycle_time(cells, config, rules.cleared_at)
    if cleared is not None:
        return max(cleared, occurred_at)
    if rules.status is not None:
        status = (cells.get(rules.status) or "").casefold()
        if status in {value.casefold() for value in rules.closed_values}:
            # No clear time given: the record's version time, else the call's own time.
            return _lifecycle_time(cells, config, rules.version) or occurred_at
    return None


def _scene(cells: _Cells, columns: list[str]) -> str | None:
    if not columns:
        return None
    parts = [cells.get(column) for column in columns]
    return None if any(p is None for p in parts) else "|".join(p for p in parts if p)


def _external_id(cells: _Cells, fields: FieldsConfig) -> str:
    spec = fields.external_id
    if spec is not None:
        parts = [cells.get(column) for column in spec.columns]
        if all(part is not None for part in parts):
            found = spec.separator.join(p for p in parts if p is not None)
            if len(found) > MAX_ID_LENGTH:
                # Some feeds use URLs as ids (CAP index entries): a stable digest stands in.
                return "h:" + hashlib.sha256(found.encode("utf-8")).hexdigest()
            return found
    if fields.id_from_content:
        return content_id(cells.payload, fields.id_from_content)
    assert spec is not None  # FieldsConfig requires an id column or content columns
    raise NormalizeError(spec.columns[0], "missing, and no id_from_content columns to hash")


# --- point ---------------------------------------------------------------------------------


def _point(cells: _Cells, config: SourceConfig) -> Point:
    fields = config.fields
    if fields.location is not None:
        lat, lon = _pair(cells, fields.location)
        lat_field = lon_field = fields.location.column
    else:
        assert fields.latitude is not None
        assert fields.longitude is not None
        lat = _coordinate(cells, fields.latitude)
        lon = _coordinate(cells, fields.longitude)
        lat_field, lon_field = fields.latitude.column, fields.longitude.column
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
    if config.bbox is not None and not _inside(lat, lon, config.bbox):
        reason = f"point ({lat}, {lon}) is outside the source's bbox {list(config.bbox)}"
        if _inside(lon, lat, config.bbox):
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


def _coordinate(cells: _Cells, spec: CoordinateSpec) -> float:
    return _number(spec.column, cells.need(spec.column), spec.scale)


def _pair(cells: _Cells, spec: PairSpec) -> tuple[float, float]:
    text = cells.need(spec.column)
    match = _PAIR.match(text)
    if match is None:
        raise NormalizeError(spec.column, f"{text!r} is not a '(a, b)' coordinate pair")
    first = _number(spec.column, match[1], spec.scale)
    second = _number(spec.column, match[2], spec.scale)
    return (first, second) if spec.order == "lat_lon" else (second, first)


# --- time ----------------------------------------------------------------------------------


def _occurred_at(cells: _Cells, specs: list[TimeSpec], default_zone: str) -> datetime:
    for spec in specs:
        value = cells.get(spec.column)
        if value is not None:
            return parse_time(value, spec, ZoneInfo(spec.time_zone or default_zone))
    names = ", ".join(spec.column for spec in specs)
    raise NormalizeError(specs[0].column, "missing" if len(specs) == 1 else f"{names}: all missing")


def parse_time(value: str, spec: TimeSpec, zone: ZoneInfo) -> datetime:
    """`value` (already stripped) read by the first matching format of `spec`, as UTC."""
    for fmt in spec.formats:
        parsed = _parse_one(value, fmt, spec)
        if parsed is None:
            continue
        if parsed.tzinfo is not None and spec.offset == "use":
            return parsed.astimezone(UTC)
        return localize(parsed.replace(tzinfo=None), zone, spec)
    raise NormalizeError(spec.column, _unparsed_reason(value, spec))


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
    earlier = naive.replace(tzinfo=zone, fold=0)
    later = naive.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier.astimezone(UTC)
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        # In a spring-forward gap: fold=0 reads it with the offset before the change,
        # which lands the same length of time after the gap (02:30 -> 03:30).
        return earlier.astimezone(UTC)
    if spec.ambiguous == "reject":
        raise NormalizeError(
            spec.column, f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks went back)"
        )
    return (earlier if spec.ambiguous == "earlier" else later).astimezone(UTC)
