"""Reading OpenStreetMap extracts as named ways and named or numbered points.

Three formats ship with the samples and are what operators download: Overpass JSON (gzip or
not), `.osm.pbf` (pyosmium) and the ogr2ogr shapefile layout (zips of lines and points).
Every reader yields the same two shapes, so the index does not care where a street came from.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

from townsquare.places import shp

ROADS = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"}
    | {"living_street", "pedestrian", "road", "busway"}
    | {"motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link"}
)
PLACE_TAGS = ("place", "amenity", "tourism", "leisure", "shop", "railway")
STOPS = frozenset({"bus_stop", "platform", "stop_position", "crossing", "level_crossing"})
HSTORE = re.compile(r'"([^"]+)"=>"((?:[^"\\]|\\.)*)"')
SHAPE_FIELDS = frozenset({"name", "highway", "place", "other_tags"})
Node = tuple[int, float, float]  # a node's id (or its rounded coordinates), latitude, longitude


@dataclass(frozen=True)
class Way:
    """A named road: its name and nodes in order."""

    name: str
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Point:
    """A named place or a numbered address from the extract."""

    lat: float
    lon: float
    name: str = ""
    kind: str = ""  # what the place is (quarter, pub, station ...), for the label
    housenumber: str = ""
    street: str = ""


def _point(lat: float, lon: float, tags: dict[str, str]) -> Point | None:
    """A point worth indexing, or None."""
    kind = next((tags[key] for key in PLACE_TAGS if tags.get(key)), "")
    if STOPS & {tags.get("highway"), tags.get("public_transport"), kind}:
        kind = ""  # stops are named after the corner they stand at: the corner is indexed
    name = tags.get("name", "")
    number, street = tags.get("addr:housenumber", ""), tags.get("addr:street", "")
    if not (name and kind) and not (number and street):
        return None
    return Point(lat, lon, name if kind else "", kind, number, street)


def read_overpass(path: Path) -> tuple[list[Way], list[Point]]:
    """Ways and points of an Overpass JSON answer (`out` with nodes, gzip or plain)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        elements = json.load(handle)["elements"]
    where = {e["id"]: (e["lat"], e["lon"]) for e in elements if e["type"] == "node"}
    ways, points = [], []
    for element in elements:
        tags = element.get("tags") or {}
        if element["type"] == "node" and tags:
            point = _point(element["lat"], element["lon"], tags)
            if point:
                points.append(point)
        elif element["type"] == "way" and tags.get("name") and tags.get("highway") in ROADS:
            nodes = tuple((n, *where[n]) for n in element.get("nodes", ()) if n in where)
            if nodes:
                ways.append(Way(tags["name"], nodes))
    return ways, points


def read_pbf(path: Path) -> tuple[list[Way], list[Point]]:
    """Ways and points of an `.osm.pbf` file, node locations resolved by pyosmium."""
    import osmium  # imported here: only an operator's build needs it

    ways, points = [], []
    for obj in osmium.FileProcessor(str(path)).with_locations():
        if isinstance(obj, osmium.osm.Node) and len(obj.tags):
            point = _point(obj.location.lat, obj.location.lon, dict(obj.tags))
            if point:
                points.append(point)
        elif isinstance(obj, osmium.osm.Way) and obj.tags.get("highway") in ROADS:
            name = obj.tags.get("name")
            nodes = tuple(
                (n.ref, n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()
            )
            if name and nodes:
                ways.append(Way(name, nodes))
    return ways, points


def _text(value: bytes) -> str:
    """DBF text, UTF-8 where it decodes, else Latin-1 (the sample files mix both)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _coordinate_id(lon: float, lat: float) -> int:
    """A node id from its coordinates: shapefiles drop ids, shared nodes share coordinates."""
    return round(lat * 1e7) * 10**10 + round(lon * 1e7)


def read_shapefile(path: Path) -> tuple[list[Way], list[Point]]:
    """Lines and points of an ogr2ogr OSM shapefile (a .zip or .shp)."""
    ways, points = [], []
    for kind, coordinates, row in shp.read(path, SHAPE_FIELDS):
        if not coordinates:
            continue
        tags = {k: _text(v) for k, v in row.items() if k != "other_tags" and v}
        if kind in shp.POINT_TYPES:
            tags = dict(HSTORE.findall(_text(row.get("other_tags", b"")))) | tags
            lon, lat = coordinates[0]
            point = _point(lat, lon, tags)
            if point:
                points.append(point)
        elif tags.get("name") and tags.get("highway") in ROADS:
            nodes = tuple((_coordinate_id(x, y), y, x) for x, y in coordinates)
            ways.append(Way(tags["name"], nodes))
    return ways, points


def read_extract(path: Path) -> tuple[list[Way], list[Point]]:
    """Ways and points of any supported extract, by its file name."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return read_overpass(path)
    if name.endswith(".pbf"):
        return read_pbf(path)
    if name.endswith((".zip", ".shp")):
        return read_shapefile(path)
    raise ValueError(f"not an extract this can read (.json[.gz], .osm.pbf, .zip, .shp): {path}")
