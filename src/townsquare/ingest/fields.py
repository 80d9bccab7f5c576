"""How one normalized field is read from a record: a column, several joined, or a part of one.

Real feeds put two things in one cell ("ANIMAL PROBLEM - PRIORITY at 1800 block of NE 2nd
Ave") or one thing in two cells (a date column and a time column). Every field of `[fields]`
therefore takes, besides `column`, either `columns` (joined by `separator`) or a `template`
("{DATE} {TIME}"), and then optionally a `pattern` (a regular expression; the value is its
named group `group`, else its first named group, else the whole match) or a `split` separator
with an `index` (0 first, -1 last). The same keys work for every kind, since every kind
yields flat string columns.
"""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SPECIAL_TIME_FORMATS = ("epoch_s", "epoch_ms", "iso8601")
"""Time formats that are not strptime patterns."""
JOIN_HINT = (
    'to read one value from several columns write columns = ["DATE", "TIME"] (joined by '
    '`separator`, a space by default) or template = "{DATE} {TIME}"'
)


def zone_name(value: str) -> str:
    """`value` if it names an IANA time zone; ValueError otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldSpec(_Model):
    """One value of the record: a column, columns joined, or a template; optionally a part."""

    column: str = ""
    columns: list[str] = Field(default_factory=list)
    """Columns joined by `separator`; the value is missing when any of them is."""
    separator: str = " "
    template: str = ""
    """Columns named in braces: "{DATE} {TIME}"; missing when any of them is."""
    pattern: str = ""
    """A regular expression searched in the value: its `group`, first named group or match."""
    group: str = ""
    split: str = ""
    """A separator the value is split on; the part at `index` is kept."""
    index: int = 0

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, dict) and isinstance(data.get("column"), list):
            raise ValueError(f"column names one column; {JOIN_HINT}")
        return data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [bool(self.column), bool(self.columns), bool(self.template)]
        if sum(given) != 1:
            raise ValueError(f"give exactly one of column, columns or template; {JOIN_HINT}")
        if self.template and not self.template_columns():
            raise ValueError(f"template {self.template!r} names no column in braces")
        if self.pattern and self.split:
            raise ValueError("give pattern or split, not both")
        if self.pattern:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                msg = f"pattern {self.pattern!r} is not a regular expression: {exc}"
                raise ValueError(msg) from None
            if self.group and self.group not in compiled.groupindex:
                raise ValueError(f"pattern {self.pattern!r} has no group named {self.group!r}")
        elif self.group:
            raise ValueError("group goes with pattern")
        return self

    def template_columns(self) -> list[str]:
        """The column names a template refers to, in order."""
        try:
            parsed = list(string.Formatter().parse(self.template))
        except ValueError as exc:
            raise ValueError(f"template {self.template!r}: {exc}") from None
        return [name for _, name, _, _ in parsed if name]

    def sources(self) -> list[str]:
        """The payload columns this field reads."""
        if self.template:
            return self.template_columns()
        return list(self.columns) or [self.column]

    def derived(self) -> bool:
        """True if the value is not simply one column's cell."""
        return bool(self.columns or self.template or self.pattern or self.split)

    @property
    def key(self) -> str:
        """The name the value is read under, and quarantines name: the column, or a description."""
        base = self.column or self.template or self.separator.join(self.columns)
        if self.columns and self.separator.strip() == "":
            base = "+".join(self.columns)
        if self.pattern:
            named = next(iter(re.compile(self.pattern).groupindex), "match")
            return f"{base}~{self.group or named}"
        if self.split:
            return f"{base}[{self.index}]"
        return base


class IdSpec(FieldSpec):
    """The source's own record id: one column, or several joined (composite ids)."""

    separator: str = ":"

    @model_validator(mode="before")
    @classmethod
    def _list_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"columns": [data]}
        return {"columns": data} if isinstance(data, list) else data

    def derived(self) -> bool:
        """True if the id is cut from a cell or filled in a template (columns are joined by
        the plan itself, the usual composite id, without copying the record)."""
        return bool(self.template or self.pattern or self.split)

    @property
    def key(self) -> str:
        """The id column, or the joined columns' names."""
        if self.columns and not (self.pattern or self.split):
            return self.columns[0] if len(self.columns) == 1 else self.separator.join(self.columns)
        return super().key


class CoordinateSpec(FieldSpec):
    """A latitude or longitude column; `scale` turns integers into degrees (1e-6: micro-degrees)."""

    scale: float = 1.0


class PairSpec(FieldSpec):
    """A column holding both coordinates as "(a, b)"; `order` says which comes first."""

    order: Literal["lat_lon", "lon_lat"] = "lat_lon"
    scale: float = 1.0


class TimeSpec(FieldSpec):
    """A time column and how to read it; `occurred_at` lists one or more, tried in order."""

    formats: list[str] = Field(min_length=1)
    offset: Literal["use", "ignore"] = "use"
    """A parsed UTC offset is used as given, or ignored (the wall clock is `time_zone` time)."""
    ambiguous: Literal["infer", "earlier", "later", "reject"] = "infer"
    """A local time that occurs twice (clocks went back): inferred from the feed (never after
    the snapshot that holds it, never before a lower id's time), else its first occurrence;
    or always its first or second occurrence; or rejected. A local time that does not exist
    (clocks went forward) is read with the offset in force before the change, i.e. moved
    forward by the gap (02:30 -> 03:30)."""
    hour_24: Literal["reject", "next_day", "noon"] = "reject"
    """Hour 24: an error; 00 of the next day (ISO 8601 end-of-day reading); or 12 of the
    same day (an exporter that wrote noon as 24)."""
    twelve_pm_means_midnight_before: date | None = None
    """For an exporter that wrote 00:xx as "12:xx PM": before this date, 12 PM is 00."""
    time_zone: str | None = None
    """Zone of naive values of this column; default the source's `time_zone`."""

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if fmt not in SPECIAL_TIME_FORMATS and "%" not in fmt:
                raise ValueError(
                    f"{fmt!r} is neither a strptime pattern nor one of {SPECIAL_TIME_FORMATS}"
                )
        return value

    @field_validator("time_zone")
    @classmethod
    def _valid_zone(cls, value: str | None) -> str | None:
        return None if value is None else zone_name(value)

    def for_column(self, column: str) -> TimeSpec:
        """These formats and rules for another single column (lifecycle times)."""
        update = {"column": column, "columns": [], "template": "", "pattern": "", "split": ""}
        return self.model_copy(update=update)


Precision = Literal["address", "block", "intersection", "street", "place"]


def _exact_enough() -> list[Precision]:
    return ["address", "block", "intersection"]


class GeocodeConfig(_Model):
    """How a record without coordinates is placed from its address (the `[geocode]` table)."""

    accept: list[Precision] = Field(default_factory=_exact_enough)
    """Precisions published as found; anything coarser is quarantined (or `fallback`)."""
    city: str = ""
    """The city the geocoder looks in (an indexed city name); default every city."""
    fallback: tuple[float, float] | None = None
    """[lat, lon] of the agency's area: an address that cannot be placed is published here
    with precision "area" instead of being quarantined. Never a guessed exact point."""

    @field_validator("fallback")
    @classmethod
    def _valid_point(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (abs(value[0]) <= 90 and abs(value[1]) <= 180):
            raise ValueError("fallback is [lat, lon] in degrees")
        return value
