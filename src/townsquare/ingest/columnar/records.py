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

    def _distinct(
        self, name: str | None, read: Callable[[str | None], Any]
    ) -> tuple[Objects, npt.NDArray[np.intp]]:
        """`read` of each distinct cell, and each row's index into those answers."""
        column = self._column(name) if name else None
        if column is None:
            answers = np.empty(1, dtype=object)
            answers[0] = read(None)
            return answers, np.zeros(self.page.rows, dtype=np.intp)
        encoded = column.dictionary_encode()
        cells = encoded.dictionary.to_pylist()
        answers = np.empty(len(cells), dtype=object)
        answers[:] = [read(self.plan.get({"c": cell}, "c")) for cell in cells]
        return answers, encoded.indices.to_numpy().astype(np.intp)

    def _per_distinct(self, name: str | None, read: Callable[[str | None], Any]) -> Objects:
        """`read` of each row's cell, called once per distinct cell; BAD rows marked odd."""
        answers, rows = self._distinct(name, read)
        self.odd |= _where(answers, BAD)[rows]
        return answers[rows]

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

    def _occurred_at(self) -> Objects | npt.NDArray[np.int64]:
        """(UTC time, second reading) per row from the first time column that has one; for
        a single epoch column, microseconds since the epoch (UTC)."""
        times = self.plan.times
        column = self._column(times[0].column)
        if len(times) == 1 and times[0].epoch_divisor is not None and column is not None:
            return self._epoch(column, times[0].epoch_divisor)
        found: Objects | None = None
        state = np.ones(self.page.rows, dtype=np.int8)  # 0 read, 1 missing, 2 unreadable
        for time in times:

            def readings(value: str | None, time: Any = time) -> Any:
                if value is None:
                    return None
                try:
                    return time.readings(value)
                except NormalizeError:
                    return BAD

            answers, rows = self._distinct(time.column, readings)
            values = answers[rows]
            states = (_where(answers, None) + 2 * _where(answers, BAD)).astype(np.int8)[rows]
            if found is None:
                found = values
            else:
                gaps = state == 1
                found[gaps] = values[gaps]
            state = np.where(state == 1, states, state)
        assert found is not None
        self.odd |= state != 0
        return found

    def _epoch(self, column: pa.Array, divisor: int) -> npt.NDArray[np.int64]:
        """Microseconds of the plain epoch cells (exact as the per-record float reading);
        any other cell (missing, signed, fractional) is left to the per-record code."""
        missing = pa.array(sorted(self.plan.missing), pa.string())
        plain = pc.and_(
            pc.match_substring_regex(column, _DIGITS[divisor]),
            pc.invert(pc.is_in(column, missing)),
        )
        self.odd |= ~pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
        micros = pc.multiply(pc.cast(pc.if_else(plain, column, "0"), pa.int64()), 10**6 // divisor)
        found: npt.NDArray[np.int64] = micros.to_numpy(zero_copy_only=False)
        return found

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
        none: list[None] = [None] * len(ids)

        def listed(values: Objects | None) -> list[Any]:
            return none if values is None else values.tolist()

        points = self.points
        places: list[Any]
        if isinstance(points, tuple):
            lats, lons = points[0].tolist(), points[1].tolist()
            places = list(none)
            for i in rows:
                places[i] = Point(lats[i], lons[i])
        else:
            places = points.tolist()
        occurred = self.occurred
        if occurred.dtype == np.int64:
            naive = pa.array(occurred, pa.timestamp("us")).to_pylist()
            moments = [(moment.replace(tzinfo=UTC), None) for moment in naive]
        else:
            moments = occurred.tolist()
        address, unit = listed(self.address), listed(self.unit)
        severity, scene, call = listed(self.severity), listed(self.scene), self.call.tolist()
        for i in rows:
            original, category, mapped = call[i]
            at, later = moments[i]
            out[i] = NormalizedRecord(
                external_id=ids[i],
                original_type=original,
                category=category,
                address=address[i],
                point=places[i],
                occurred_at=at,
                unit=unit[i],
                mapped=mapped,
                scene=scene[i],
                severity=severity[i],
                occurred_later=later,
            )


def _where(answers: Objects, marker: object) -> Flags:
    """True where an answer is `marker` (BAD, None)."""
    return np.fromiter((answer is marker for answer in answers), dtype=bool, count=len(answers))


def first_seen(digests: list[str]) -> Flags:
    """True for the first row of each content hash (the store keeps one of each)."""
    codes = pa.array(digests, pa.string()).dictionary_encode().indices.to_numpy()
    _, first = np.unique(codes, return_index=True)
    kept = np.zeros(len(digests), dtype=bool)
    kept[first] = True
    return kept
