"""The basemap archives over HTTP: `/tiles/index.json` and `/tiles/{name}.pmtiles` with ranges.

The browser's PMTiles reader asks for byte ranges of one file (header, directories, tiles),
so a city's map needs no tile server: Starlette's FileResponse answers `Range` with 206 and
`Content-Range`, an unsatisfiable range with 416, and `If-Range` against the ETag. The URL in
the index carries the content's ETag, so the file itself may be cached for a year.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from townsquare.errors import NotFound
from townsquare.http.deps import settings_of
from townsquare.tiles.archive import archives

router = APIRouter(tags=["map"])
FOREVER = "public, max-age=31536000, immutable"
INDEX_MAX_AGE = "public, max-age=300"


@router.get("/tiles/index.json", summary="The street basemap archives and what each covers")
def tiles_index(request: Request) -> JSONResponse:
    """Each archive's name, URL, zooms and bounds (west, south, east, north)."""
    found = archives(settings_of(request))
    body: list[dict[str, Any]] = [
        {
            "name": archive.name,
            "url": f"/tiles/{archive.name}.pmtiles?v={archive.etag[1:13]}",
            "min_zoom": archive.min_zoom,
            "max_zoom": archive.max_zoom,
            "bounds": list(archive.bounds),
            "attribution": "© OpenStreetMap contributors",
        }
        for archive in found.values()
    ]
    return JSONResponse({"archives": body}, headers={"Cache-Control": INDEX_MAX_AGE})


@router.get(
    "/tiles/{name}.pmtiles",
    summary="One street basemap archive (PMTiles), read by HTTP range requests",
    response_class=FileResponse,
)
def tiles_archive(name: str, request: Request) -> FileResponse:
    """The archive's bytes: the whole file, or the `Range` asked for (206)."""
    archive = archives(settings_of(request)).get(name)
    if archive is None:
        raise NotFound(f"no basemap archive named {name!r}")
    return FileResponse(
        archive.path,
        media_type="application/vnd.pmtiles",
        headers={"ETag": archive.etag, "Cache-Control": FOREVER},
    )


# HEAD gives the size and validators without the bytes; one operation in the OpenAPI document.
router.add_api_route(
    "/tiles/{name}.pmtiles", tiles_archive, methods=["HEAD"], include_in_schema=False
)
