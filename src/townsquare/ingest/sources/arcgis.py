"""ArcGIS MapServer/FeatureServer layers: `query` paged while `exceededTransferLimit` is true.

Reads Esri JSON (`f=json`: `features[].attributes` and optional `geometry` x/y) and GeoJSON
(`f=geojson`: `features[].properties` and `geometry.coordinates`). Each feature is flattened
to dotted paths ("attributes.CALL_TIME", "geometry.x", "properties.id",
"geometry.coordinates.1"); dates stay epoch milliseconds for the `epoch_ms` format. A
`location` that is a file is read as one saved query response.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar, Literal

from pydantic import Field

from townsquare.errors import SourceError
from townsquare.ingest.columnar.tables import Page, records_page
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import KindOptions, RawItem
from townsquare.ingest.sources.http import flatten, get, parse_json, read_location


class ArcgisOptions(KindOptions):
    """An ArcGIS MapServer/FeatureServer layer query (the `[arcgis]` table)."""

    where: str = "1=1"
    out_fields: str = "*"
    order_by: str | None = None
    """`orderByFields`, e.g. "CALL_TIME DESC"; paging needs a stable order."""
    page_size: int = Field(default=1000, ge=1, le=32000)
    format: Literal["json", "geojson"] = "json"
    max_pages: int = Field(default=1000, ge=1)


class ArcgisSource:
    """Every feature the layer query returns, page after page."""

    kind: ClassVar[str] = "arcgis"
    Options: ClassVar[type[ArcgisOptions]] = ArcgisOptions
    options_table: ClassVar[str] = "arcgis"

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """The layer's features (a URL is queried and paged; a file is one response)."""
        for document, where, page in _documents(config):
            yield from _items(document, where, page)

    def pages(self, config: SourceConfig) -> Iterator[Page | Iterator[RawItem]]:
        """Each response as columns, or as items where its features differ in shape."""
        for document, where, number in _documents(config):
            found = records_page(_features(document, where), partial(_position, number))
            yield found if found is not None else _items(document, where, number)


def _position(page: int, index: int) -> str:
    return f"page {page} feature {index + 1}"


def _documents(config: SourceConfig) -> Iterator[tuple[Any, str, int]]:
    """Each query response, where it came from, and its page number."""
    if not config.is_url():
        yield parse_json(read_location(config)), config.location, 1
        return
    options = config.kind_options(ArcgisOptions)
    url = config.location.rstrip("/")
    url = url if url.endswith("/query") else f"{url}/query"
    offset = 0
    for page in range(1, options.max_pages + 1):
        params = {
            "f": options.format,
            "where": options.where,
            "outFields": options.out_fields,
            "returnGeometry": "true",
            "outSR": "4326",
            "resultOffset": str(offset),
            "resultRecordCount": str(options.page_size),
        }
        if options.order_by:
            params["orderByFields"] = options.order_by
        document = parse_json(get(config, url, params, conditional_ok=page == 1))
        features = _features(document, url)
        yield document, url, page
        if not _exceeded(document) or not features:
            return
        offset += len(features)
    raise SourceError(f"{url}: still more features after {options.max_pages} pages")


def _features(document: Any, where: str) -> list[Any]:
    if not isinstance(document, dict):
        raise SourceError(f"{where}: expected a query response object")
    error = document.get("error")
    if isinstance(error, dict):  # ArcGIS answers errors with HTTP 200 and this body
        details = "; ".join(map(str, error.get("details") or []))
        raise SourceError(
            f"{where}: ArcGIS error {error.get('code')}: {error.get('message')}"
            + (f" ({details})" if details else "")
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise SourceError(f"{where}: no 'features' list in the response")
    return features


def _exceeded(document: dict[str, Any]) -> bool:
    properties = document.get("properties")
    nested = properties.get("exceededTransferLimit") if isinstance(properties, dict) else None
    return bool(document.get("exceededTransferLimit") or nested)


def _items(document: Any, where: str, page: int) -> Iterator[RawItem]:
    for number, feature in enumerate(_features(document, where), start=1):
        position = f"page {page} feature {number}"
        if not isinstance(feature, dict):
            yield RawItem(position, {"#feature": str(feature)}, "a feature is not an object")
            continue
        yield RawItem(position, flatten(feature))
