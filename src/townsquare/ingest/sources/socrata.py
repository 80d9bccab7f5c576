"""Socrata SODA 2 resources (`/resource/<4x4>.json`): paged, optionally incremental.

Pages with `$limit`/`$offset` under a stable `$order` until a page comes back short. With
`[socrata] since_column`, only rows after the newest value already read are asked for
(`$where since_column > '...'`), and the newest value is kept in the poll cursor once the
whole fetch has been read. SODA writes every value as a string and leaves out null keys;
nested values (a `location` object, a GeoJSON point) are flattened to dotted paths.
An error body (`{"message": ..., "error": true}`, `{"code": ..., "message": ...}`) becomes
the source error's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field

from townsquare.errors import SourceError
from townsquare.ingest.columnar.tables import Page, records_page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import KindOptions, RawItem
from townsquare.ingest.sources.http import (
    current_cursor,
    flatten,
    get,
    parse_json,
    read_location,
)


class SocrataOptions(KindOptions):
    """A Socrata SODA 2 resource (the `[socrata]` table)."""

    page_size: int = Field(default=1000, ge=1, le=50000)
    order: str = ":id"
    """`$order`: paging needs a stable order."""
    where: str | None = None
    """A fixed `$where` filter, combined with the incremental one."""
    since_column: str | None = None
    """Incremental reads: only rows whose column is after the newest value seen."""
    max_pages: int = Field(default=1000, ge=1)


class SocrataSource:
    """Every row of the resource (or every row after the cursor), page after page."""

    kind: ClassVar[str] = "socrata"
    Options: ClassVar[type[SocrataOptions]] = SocrataOptions
    options_table: ClassVar[str] = "socrata"

    def pages(self, config: SourceConfig) -> Iterator[Page | Iterator[RawItem]]:
        """A saved response (a file) as columns; a resource's pages as items, read with
        the cursor as `fetch` reads them."""
        if config.is_url():
            yield self.fetch(config)
            return
        rows = parse_json(read_location(config))
        page = records_page(rows, _position) if isinstance(rows, list) else None
        yield page if page is not None else _items(rows, config.location, 1)

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The resource's rows; a file `location` is one saved response."""
        if not config.is_url():
            yield from _items(parse_json(read_location(config)), config.location, 1)
            return
        options = config.kind_options(SocrataOptions)
        cursor = current_cursor()
        since = cursor.get("since") if cursor is not None else None
        newest = since
        offset = 0
        for page in range(1, options.max_pages + 1):
            params = {
                "$limit": str(options.page_size),
                "$offset": str(offset),
                "$order": options.order,
            }
            where = _where(options.where, options.since_column, since)
            if where:
                params["$where"] = where
            rows = parse_json(get(config, config.location, params, conditional_ok=page == 1))
            items = list(_items(rows, config.location, page))
            yield from items
            if options.since_column:
                values = [i.payload.get(options.since_column, "") for i in items]
                newest = max([v for v in values if v] + ([newest] if newest else []), default=None)
            if len(items) < options.page_size:
                if cursor is not None and newest:
                    cursor["since"] = newest
                return
            offset += len(items)
        raise SourceError(f"{config.location}: still more rows after {options.max_pages} pages")


def _where(fixed: str | None, column: str | None, since: str | None) -> str | None:
    parts = [f"({fixed})"] if fixed else []
    if column and since:
        quoted = since.replace("'", "''")
        parts.append(f"{column} > '{quoted}'")
    return " AND ".join(parts) or None


def _position(index: int) -> str:
    return f"page 1 row {index + 1}"


def _items(rows: Any, where: str, page: int) -> Iterator[RawItem]:
    if isinstance(rows, dict):  # an error body that came with HTTP 200
        raise SourceError(f"{where}: {rows.get('message') or rows}")
    if not isinstance(rows, list):
        raise SourceError(f"{where}: expected a JSON array of rows")
    for number, row in enumerate(rows, start=1):
        position = f"page {page} row {number}"
        if isinstance(row, dict):
            yield RawItem(position, flatten(row))
        else:
            yield RawItem(position, {"#row": str(row)}, "a row is not an object")
