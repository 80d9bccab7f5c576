"""`townsquare places build|load-addresses`: make the offline place index of a deployment."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from townsquare.commands import configured, fail
from townsquare.places import index
from townsquare.places.service import index_path

places_app = typer.Typer(help="The offline place search (geocoder) index.", no_args_is_help=True)
SAMPLES = {
    "Seattle": ("seattle_osm_drivable_overpass/osm.json.gz",),
    "San Francisco": (
        "sf_osm_overpass_mapflow/sf_lines.zip",
        "sf_osm_overpass_mapflow/sf_points.zip",
    ),
    "Portland": ("portland_osm_pbf_otp/portland-central-filtered.osm.pbf",),
}


def sample_cities() -> list[tuple[str, list[Path]]]:
    """The OpenStreetMap extracts that ship with Townsquare, by city."""
    root = Path(str(resources.files("townsquare") / "samples" / "osm"))
    return [(city, [root / name for name in names]) for city, names in SAMPLES.items()]


@places_app.command("build")
def places_build(
    extracts: Annotated[
        list[Path] | None,
        typer.Argument(
            help="OSM extracts of one city: Overpass JSON (.json, .json.gz), .osm.pbf, or "
            "ogr2ogr shapefiles (.zip, .shp); default: the bundled samples of three cities.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    city: Annotated[
        str, typer.Option(help="City name the extracts cover; default: the first file's name.")
    ] = "",
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when the index already exists.")
    ] = False,
) -> None:
    """Build the place index (TOWNSQUARE_PLACES_INDEX), replacing the one there."""
    settings = configured()
    target = index_path(settings)
    if if_missing and target.exists():
        typer.echo(f"place index already at {target}")
        return
    cities = [(city or extracts[0].name.split(".")[0], extracts)] if extracts else sample_cities()
    started = time.perf_counter()
    try:
        counts = index.build(target, cities)
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot build the place index: {exc}")
    typer.echo(
        f"built {target} in {time.perf_counter() - started:.1f} s: {counts.streets} streets, "
        f"{counts.intersections} intersections, {counts.places} places, "
        f"{counts.addresses} addresses ({target.stat().st_size / 1e6:.1f} MB)"
    )


@places_app.command("load-addresses")
def places_load_addresses(
    csv_file: Annotated[
        Path,
        typer.Argument(
            help="OpenAddresses-style CSV: LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,"
            "POSTCODE",
            exists=True,
            dir_okay=False,
        ),
    ],
    city: Annotated[
        str, typer.Option(help="City of every row; default: each row's CITY column.")
    ] = "",
) -> None:
    """Add a city's address points to the built place index."""
    target = index_path(configured())
    if not target.exists():
        fail(f"no place index at {target}: run `townsquare places build` first")
    counts = index.load_addresses(target, index.read_csv(csv_file), city)
    typer.echo(f"loaded {counts.addresses} addresses into {target}")
