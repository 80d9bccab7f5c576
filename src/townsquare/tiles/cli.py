"""`townsquare tiles build|list`: a city's street basemap from an OSM extract; what is served."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from townsquare.commands import configured
from townsquare.tiles.archive import archives, tiles_folder
from townsquare.tiles.build import BuildError, build_tiles
from townsquare.tiles.osm import ExtractError

tiles_app = typer.Typer(help="The self-hosted street basemap (PMTiles).", no_args_is_help=True)


@tiles_app.command("build")
def tiles_build(
    extract: Annotated[
        list[Path],
        typer.Argument(
            help="OSM extract: one .osm.pbf, or Overpass JSON file(s) (.json, .json.gz) of "
            "one city (e.g. streets and water in two files).",
            exists=True,
            dir_okay=False,
        ),
    ],
    name: Annotated[
        str, typer.Option(help="Archive name: served at /tiles/NAME.pmtiles.")
    ] = "city",
    output: Annotated[
        Path | None,
        typer.Option(help="Write here instead of TILES_DIR/NAME.pmtiles."),
    ] = None,
) -> None:
    """Build a city's basemap (roads, water, land; zoom 8-14) from an OpenStreetMap extract."""
    target = output or tiles_folder(configured()) / f"{name}.pmtiles"
    try:
        built = build_tiles(extract, target, name=name)
    except (BuildError, ExtractError) as exc:
        typer.echo(f"tiles build: {exc}", err=True)
        raise typer.Exit(1) from None
    west, south, east, north = built.archive.bounds
    typer.echo(
        f"{target}: {built.features} features, {built.archive.size / 1e6:.1f} MB, "
        f"zoom {built.archive.min_zoom}-{built.archive.max_zoom}, "
        f"bounds {west:.4f},{south:.4f},{east:.4f},{north:.4f}, {built.seconds:.1f} s"
    )


@tiles_app.command("list")
def tiles_list() -> None:
    """The basemap archives the server serves, with their zooms and bounds."""
    found = archives(configured())
    if not found:
        typer.echo("no basemap archives: pages show a plain grid (see `townsquare tiles build`)")
    for archive in found.values():
        west, south, east, north = archive.bounds
        typer.echo(
            f"{archive.name}\t{archive.path}\t{archive.size / 1e6:.1f} MB\t"
            f"zoom {archive.min_zoom}-{archive.max_zoom}\t"
            f"bounds {west:.4f},{south:.4f},{east:.4f},{north:.4f}"
        )
