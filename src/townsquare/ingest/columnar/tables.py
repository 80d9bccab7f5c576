"""Files and pages read into string columns, cells exactly as the per-record readers give them.

A page becomes a `Page`: one Arrow string column per payload key (no nulls: a missing JSON
value is "", as `flatten` writes it) and each row's position. Only payloads the per-record
readers would give the same cells for are read here; anything else (ragged CSV rows, a cell
spanning lines, nested or uneven JSON records, another encoding) returns None, and the caller
reads that payload record by record as before.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

pa.set_cpu_count(1)  # one core per ingest worker: the figures are per core
pa.set_io_thread_count(1)


@dataclass(frozen=True, slots=True)
class Page:
    """Records as string columns, and where each one was in the payload."""

    table: pa.Table
    position: Callable[[int], str]
    """The position ("line 17", "page 1 feature 3") of the row at an index."""

    @property
    def rows(self) -> int:
        """How many records the page holds."""
        return int(self.table.num_rows)

    def part(self, start: int, rows: int) -> Page:
        """Up to `rows` rows from `start`, each keeping its position."""
        position = self.position
        return Page(self.table.slice(start, rows), lambda i: position(start + i))

    def only(self, kept: npt.NDArray[np.bool_]) -> Page:
        """The rows marked True, each keeping its position (the others dropped: repeats)."""
        indices = np.flatnonzero(kept)
        position = self.position
        return Page(self.table.take(pa.array(indices)), lambda i: position(int(indices[i])))


def csv_page(
    data: bytes,
    *,
    delimiter: str,
    quotechar: str,
    encoding: str,
    header: bool,
    columns: list[str] | None,
) -> Page | None:
    """A CSV payload as columns, or None when only the csv module reads it faithfully."""
    if encoding.lower().replace("_", "-") not in {"utf-8", "utf-8-sig", "utf8"}:
        return None
    if b"\r" in data.replace(b"\r\n", b""):
        return None  # a lone carriage return ends a line for the csv module only
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    first_end = body.find(b"\n")
    first_line = body if first_end < 0 else body[:first_end]
    try:
        first = next(
            csv.reader(
                [first_line.decode("utf-8").rstrip("\r")],
                delimiter=delimiter,
                quotechar=quotechar,
            ),
            [],
        )
    except (UnicodeDecodeError, csv.Error):
        return None
    names = columns or (first if header else None)
    if not names or len(set(names)) != len(names) or not first or not body.strip():
        return None
    skip = 1 if header else 0
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=names, skip_rows=skip, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=quotechar,
                double_quote=True,
                newlines_in_values=False,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # ragged rows, stray quotes: the csv module reads and reports them
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if lines != table.num_rows + skip:
        return None  # blank lines or cells across lines: positions need the csv module
    return Page(table, lambda index: f"line {index + 1 + skip}")


Scalar = str | int | float | bool | None


def _text(value: Any) -> str:
    """A JSON scalar as `sources.http.flatten` writes it."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if value is None:
        return ""
    return json.dumps(value)


def _column(values: list[Any]) -> pa.Array | None:
    """Flattened cells of one key; None if a value is not a scalar (flatten would nest)."""
    kinds = set(map(type, values))
    if kinds - {str, int, float, bool, type(None)}:
        return None
    if kinds == {str}:
        return pa.array(values, pa.string())
    if kinds == {int}:
        try:
            return pa.array(values, pa.int64()).cast(pa.string())
        except (pa.ArrowInvalid, OverflowError):
            pass
    if kinds == {float} and np.isfinite(np.array(values, dtype=np.float64)).all():
        return pa.array(list(map(float.__repr__, values)), pa.string())
    return pa.array(list(map(_text, values)), pa.string())


def records_page(records: Sequence[Any], position: Callable[[int], str]) -> Page | None:
    """JSON records (objects of scalars, or of objects of scalars, all alike) as columns.

    None when a record is not an object, nests deeper, or differs in its keys from the
    first: flatten() reads those record by record.
    """
    if not records or not isinstance(records[0], dict):
        return None
    first = records[0]
    groups: dict[str, list[str] | None] = {}
    for key, value in first.items():
        groups[key] = list(value) if isinstance(value, dict) else None
    keys = list(first)
    for record in records:
        if type(record) is not dict or list(record) != keys:
            return None
    columns: dict[str, pa.Array] = {}
    for key, inner in groups.items():
        if inner is None:
            column = _column([record[key] for record in records])
            if column is None:
                return None
            columns[key] = column
            continue
        parts = [record[key] for record in records]
        if any(type(part) is not dict or list(part) != inner for part in parts):
            return None
        for name in inner:
            column = _column([part[name] for part in parts])
            if column is None:
                return None
            columns[f"{key}.{name}"] = column
    if not columns:
        return None
    return Page(pa.table(columns), position)
