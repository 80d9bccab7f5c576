"""CSV feeds: a local file or an http(s) URL, with a header line or columns by position."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import Field, model_validator

from townsquare.errors import SourceError
from townsquare.ingest.columnar.tables import Page, csv_page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import KindOptions, RawItem

HTTP_TIMEOUT_S = 30.0


class CsvOptions(KindOptions):
    """How to read a CSV payload (the `[csv]` table)."""

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    header: bool = True
    """The first line names the columns."""
    columns: list[str] | None = None
    """Column names by position; required without a header, replaces the header if given."""

    @model_validator(mode="after")
    def _named(self) -> CsvOptions:
        if not self.header and not self.columns:
            raise ValueError("header = false needs columns = [...] (names by position)")
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ValueError("columns must be distinct")
        return self

    def check_source(self, config: SourceConfig) -> None:
        """Header-less: every column the mapping reads must be one of `columns`."""
        if self.header or not self.columns:
            return
        read = config.fields.columns() | config.lifecycle.columns()
        unknown = sorted(read - set(self.columns))
        if unknown:
            raise ValueError(f"fields name columns not in csv.columns: {unknown}")


class CsvSource:
    """Reads a whole CSV payload and yields one item per record, cells unchanged.

    A row whose cell count differs from the column count is still yielded: the cells it has
    are keyed by column name, surplus cells by their 1-based position ("#8", "#9"), and
    `defect` says what is wrong, so the core quarantines it instead of losing it.
    """

    kind: ClassVar[str] = "csv"
    Options: ClassVar[type[CsvOptions]] = CsvOptions
    options_table: ClassVar[str] = "csv"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """Every record of the file or URL in `config.location`."""
        return _records(_read_text(config), config.kind_options(CsvOptions), config.location)

    def pages(self, config: SourceConfig) -> Iterator[Page | Iterator[RawItem]]:
        """The file or URL as one page of columns, or its items where only the csv module
        reads it faithfully (ragged rows, cells across lines, another encoding)."""
        options = config.kind_options(CsvOptions)
        data = _read_bytes(config)
        page = csv_page(
            data,
            delimiter=options.delimiter,
            quotechar=options.quotechar,
            encoding=options.encoding,
            header=options.header,
            columns=options.columns,
        )
        if page is not None:
            yield page
        else:
            yield _records(_decoded(data, options.encoding, config), options, config.location)

    def parse(self, config: SourceConfig, body: bytes) -> Iterator[RawItem]:
        """The records of a pushed CSV body."""
        options = config.kind_options(CsvOptions)
        try:
            text = body.decode(options.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{config.slug}: not {options.encoding}: {exc}") from exc
        return _records(text, options, config.slug)


def _read_text(config: SourceConfig) -> str:
    encoding = config.kind_options(CsvOptions).encoding
    return _decoded(_read_bytes(config), encoding, config)


def _read_bytes(config: SourceConfig) -> bytes:
    if config.is_url():
        try:
            response = httpx.get(config.location, timeout=HTTP_TIMEOUT_S, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SourceError(f"{config.location}: {exc}") from exc
        data = response.content
    else:
        try:
            data = Path(config.location).read_bytes()
        except OSError as exc:
            raise SourceError(f"{config.location}: {exc.strerror or exc}") from exc
    return data


def _decoded(data: bytes, encoding: str, config: SourceConfig) -> str:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"{config.location}: not {encoding}: {exc}") from exc


def _records(text: str, options: CsvOptions, where: str) -> Iterator[RawItem]:
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=options.delimiter, quotechar=options.quotechar
    )
    rows = _numbered(reader, where)
    names = options.columns
    if options.header:
        first = next(rows, None)
        if first is None:
            raise SourceError(f"{where}: empty payload, expected a header line")
        names = names or first[1]
    assert names is not None  # guaranteed by CsvOptions
    if len(set(names)) != len(names):
        raise SourceError(f"{where}: duplicate column names in {names}")
    width = len(names)
    for line, cells in rows:
        if len(cells) == width:  # the usual row, built here rather than in _item
            yield RawItem(f"line {line}", dict(zip(names, cells, strict=True)))
        else:
            yield _item(line, cells, names)


def _numbered(reader: Any, where: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the line each starts on (a quoted cell may span lines)."""
    line_num = 0
    try:
        for cells in reader:
            start = line_num + 1
            line_num = reader.line_num
            if cells:
                yield start, cells
    except csv.Error as exc:
        raise SourceError(f"{where}: line {line_num + 1}: {exc}") from exc


def _item(line: int, cells: list[str], names: list[str]) -> RawItem:
    payload = dict(zip(names, cells, strict=False))
    if len(cells) == len(names):
        return RawItem(f"line {line}", payload)
    for index in range(len(names), len(cells)):
        payload[f"#{index + 1}"] = cells[index]
    defect = f"{len(cells)} cells where there are {len(names)} columns"
    return RawItem(f"line {line}", payload, defect)
