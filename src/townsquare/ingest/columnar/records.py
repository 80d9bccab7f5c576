"""A page of records normalized column by column, the same records `normalize.Plan` gives.

Work is done once per distinct value where a feed repeats itself (call types, addresses,
units, time strings, "(lat, lon)" cells) and as Arrow arrays where it does not (ids,
coordinates, epoch times). A row with anything unusual in any field (missing, malformed,
out of range, a wall time that happens twice, whitespace to strip) is left to the
per-record code, which also names the field at fault, so quarantines read exactly as before.
A mapping using what this module does not cover (derived fields, summaries, lifecycle times,
geocoding) is normalized record by record for the whole page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from townsquare.geo import Point
from townsquare.ingest.cap_events import category_of
from townsquare.ingest.columnar.tables import Page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.normalize import (
    MAX_CALL_TYPE_LENGTH,
    MAX_ID_LENGTH,
    MAX_UNIT_LENGTH,
    UNMAPPED_CATEGORY,
    NormalizedRecord,
    NormalizeError,
    Plan,
    check_point,
    pair_of,
    plan_for,
)
from townsquare.ingest.sources.base import RawItem

Objects = npt.NDArray[np.object_]
Flags = npt.NDArray[np.bool_]
_EDGE_SPACE = r"^[\t-\r\x1c-\x1f\x85\p{Z}]|[\t-\r\x1c-\x1f\x85\p{Z}]$"
"""A cell str.strip() would change (a superset: such rows go to the per-record code)."""
_DECIMAL = r"^-?[0-9]{1,3}(\.[0-9]{1,15})?$"
_DIGITS = {1: r"^[0-9]{1,11}$", 1000: r"^[0-9]{1,13}$"}
"""Epoch values whose float reading is exact to the microsecond, as the per-record code's."""


class _Bad:
    """A cell the per-record code must read (it will say why)."""


BAD = _Bad()


def covers(plan: Plan) -> bool:
    """True if every field of the mapping is read here (else the page goes record by record)."""
    return not (
        plan.derived
        or plan.summary
        or plan.closes
        or plan.version is not None
        or plan.expires is not None
        or len(plan.scene or []) > 1
        or plan.geocodes
        or plan.geocode_missing
        or (plan.id_column is None and plan.id_joined is None)
    )


class Normalized:
    """A page's normalized fields as per-row arrays, and the rows left to the per-record code."""

    def __init__(self, page: Page, config: SourceConfig) -> None:
        self.page = page
        self.plan = plan_for(config)
        rows = page.rows
        self.odd: Flags = np.ones(rows, dtype=bool)
        if not covers(self.plan) or rows == 0:
            return
        self.odd = np.zeros(rows, dtype=bool)
        self.call = self._per_distinct(self.plan.call_type, self._call_type)
        self.occurred = self._occurred_at()
        self.address = self._optional(self.plan.address, lambda v: v)
        self.unit = self._optional(self.plan.unit, self._unit)
        self.severity = self._optional(self.plan.severity, self._severity)
        scene = self.plan.scene[0] if self.plan.scene else None
        self.scene = self._optional(scene, self._scene)
        self.ids = self._ids()
        self.points = self._points()

    # --- per distinct value --------------------------------------------------------------

    def _column(self, name: str) -> pa.Array | None:
        table = self.page.table
        if name not in table.column_names:
            return None
        return table.column(name).combine_chunks()

    def _per_distinct(
        self, name: str | None, read: Callable[[str | None], Any], *, mark: bool = True
    ) -> Objects:
        """`read` of each row's cell, called once per distinct cell; BAD rows marked odd."""
        column = self._column(name) if name else None
        if column is None:
            values = np.empty(self.page.rows, dtype=object)
            values[:] = [read(None)] * self.page.rows
        else:
            encoded = column.dictionary_encode()
            distinct = [read(self.plan.get({"c": v}, "c")) for v in encoded.dictionary.to_pylist()]
            table = np.empty(len(distinct), dtype=object)
            table[:] = distinct
            values = table[encoded.indices.to_numpy()]
        if mark:
            self.odd |= np.fromiter((v is BAD for v in values), dtype=bool, count=len(values))
        return values

    def _optional(self, name: str | None, read: Callable[[str], Any]) -> Objects | None:
        if name is None:
            return None
        return self._per_distinct(name, lambda v: None if v is None else read(v))

    def _call_type(self, value: str | None) -> Any:
        plan = self.plan
        if value is None or len(value) > MAX_CALL_TYPE_LENGTH:
            return BAD
        code = plan.categories.get(value)
        if code is None and plan.folded is not None:
            code = category_of(plan.folded, value)
        if code is None and plan.quarantine_unmapped:
            return BAD
        return (value, code or UNMAPPED_CATEGORY, code is not None)

    @staticmethod
    def _unit(value: str) -> Any:
        return BAD if len(value) > MAX_UNIT_LENGTH else value

    @staticmethod
    def _severity(value: str) -> Any:
        return int(value) if value in {"1", "2", "3", "4", "5"} else BAD

    @staticmethod
    def _scene(value: str) -> str:
        if len(value) > MAX_ID_LENGTH:
            return "h:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
        return value

    # --- times ---------------------------------------------------------------------------

    def _occurred_at(self) -> Objects:
        """(UTC time, second reading) per row from the first time column that has one."""
        found: Objects | None = None
        for time in self.plan.times:
            values = self._time_column(time)
            if found is None:
                found = values
            else:
                gaps = np.fromiter((v is None for v in found), dtype=bool, count=len(found))
                found[gaps] = values[gaps]
        assert found is not None
        self.odd |= np.fromiter((v is None or v is BAD for v in found), bool, count=len(found))
        return found

    def _time_column(self, time: Any) -> Objects:
        def readings(value: str | None) -> Any:
            if value is None:
                return None
            try:
                return time.readings(value)
            except NormalizeError:
                return BAD

        column = self._column(time.column)
        if time.epoch_divisor is None or column is None:
            # a BAD cell only matters if no earlier column has a time: marked once combined
            return self._per_distinct(time.column, readings, mark=False)
        missing = pa.array(sorted(self.plan.missing), pa.string())
        plain = pc.and_(
            pc.match_substring_regex(column, _DIGITS[time.epoch_divisor]),
            pc.invert(pc.is_in(column, missing)),
        )
        micros = pc.multiply(
            pc.cast(pc.if_else(plain, column, "0"), pa.int64()),
            1_000_000 // time.epoch_divisor,
        )
        naive = pc.cast(micros, pa.timestamp("us")).to_pylist()
        values = np.empty(len(naive), dtype=object)
        values[:] = [(moment.replace(tzinfo=UTC), None) for moment in naive]
        for index in np.flatnonzero(~plain.to_numpy(zero_copy_only=False)).tolist():
            values[index] = readings(self.plan.get({"c": column[index].as_py()}, "c"))
        return values

    # --- ids and points ------------------------------------------------------------------

    def _clean(self, name: str) -> tuple[pa.Array, Flags]:
        """The cells of a column and the rows whose cell is usable as it is."""
        column = self._column(name)
        if column is None:
            return pa.nulls(self.page.rows, pa.string()), np.zeros(self.page.rows, dtype=bool)
        usable = pc.and_(
            pc.invert(pc.match_substring_regex(column, _EDGE_SPACE)),
            pc.invert(pc.is_in(column, pa.array(sorted(self.plan.missing), pa.string()))),
        )
        return column, pc.fill_null(usable, False).to_numpy(zero_copy_only=False)

    def _ids(self) -> pa.Array:
        spec = self.plan.id_joined
        names = spec.columns if spec is not None else [self.plan.id_column or ""]
        cleaned = [self._clean(name) for name in names]
        usable = np.logical_and.reduce([ok for _, ok in cleaned])
        columns = [column for column, _ in cleaned]
        ids = columns[0] if spec is None else pc.binary_join_element_wise(*columns, spec.separator)
        fits = pc.fill_null(pc.less_equal(pc.utf8_length(ids), MAX_ID_LENGTH), False)
        usable &= fits.to_numpy(zero_copy_only=False)
        self.odd |= ~usable
        return ids

    def _points(self) -> Objects | tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        plan = self.plan
        if plan.location is not None:
            pair = plan.location

            def point(value: str | None) -> Any:
                try:
                    return check_point(*pair_of(value or "", pair), pair.key, pair.key, plan.bbox)
                except NormalizeError:
                    return BAD

            return self._per_distinct(pair.key, lambda v: BAD if v is None else point(v))
        assert plan.latitude is not None
        assert plan.longitude is not None
        lats, lat_ok = self._degrees(plan.latitude.key, plan.latitude.scale)
        lons, lon_ok = self._degrees(plan.longitude.key, plan.longitude.scale)
        inside = lat_ok & lon_ok & (np.abs(lats) > 0) & (np.abs(lats) <= 90) & (np.abs(lons) <= 180)
        if plan.bbox is not None:
            west, south, east, north = plan.bbox
            inside &= (lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)
        self.odd |= ~inside
        return lats, lons

    def _degrees(self, name: str, scale: float) -> tuple[npt.NDArray[np.float64], Flags]:
        column, usable = self._clean(name)
        usable &= pc.match_substring_regex(column, _DECIMAL).to_numpy(zero_copy_only=False)
        numbers = pc.cast(pc.if_else(pa.array(usable), column, "0"), pa.float64())
        degrees = pc.multiply(numbers, scale) if scale != 1.0 else numbers
        return degrees.to_numpy(zero_copy_only=False), usable

    # --- records -------------------------------------------------------------------------

    def records(self) -> list[NormalizedRecord | NormalizeError]:
        """Every row's record (or the error naming its field), in row order."""
        out: list[NormalizedRecord | NormalizeError] = [NormalizeError("_row", "")] * self.page.rows
        regular = np.flatnonzero(~self.odd).tolist()
        if regular:
            self._fill(out, regular)
        odd = np.flatnonzero(self.odd).tolist()
        if odd:
            payloads = self.page.table.take(pa.array(odd, pa.int64())).to_pylist()
            for index, payload in zip(odd, payloads, strict=True):
                out[index] = self.one(RawItem(self.page.position(index), payload))
        return out

    def one(self, item: RawItem) -> NormalizedRecord | NormalizeError:
        """The per-record code's answer for one row."""
        try:
            return self.plan.normalize(item)
        except NormalizeError as exc:
            return exc

    def _fill(self, out: list[NormalizedRecord | NormalizeError], rows: list[int]) -> None:
        ids = self.ids.to_pylist()
        points = self.points
        if isinstance(points, tuple):
            lats, lons = points[0].tolist(), points[1].tolist()
        none: list[None] = [None] * len(ids)
        address = none if self.address is None else self.address
        unit = none if self.unit is None else self.unit
        severity = none if self.severity is None else self.severity
        scene = none if self.scene is None else self.scene
        call, occurred = self.call, self.occurred
        for i in rows:
            original, category, mapped = call[i]
            at, later = occurred[i]
            out[i] = NormalizedRecord(
                external_id=ids[i],
                original_type=original,
                category=category,
                address=address[i],
                point=points[i] if not isinstance(points, tuple) else Point(lats[i], lons[i]),
                occurred_at=at,
                unit=unit[i],
                mapped=mapped,
                scene=scene[i],
                severity=severity[i],
                occurred_later=later,
            )


def first_seen(digests: list[str]) -> Flags:
    """True for the first row of each content hash (the store keeps one of each)."""
    seen: dict[str, int] = {}
    for index, digest in enumerate(digests):
        seen.setdefault(digest, index)
    kept = np.zeros(len(digests), dtype=bool)
    kept[list(seen.values())] = True
    return kept
