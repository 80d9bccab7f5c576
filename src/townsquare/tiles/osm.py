"""Read an OpenStreetMap extract (Overpass JSON or .osm.pbf) into basemap features.

Roads and waterways become lines, water areas polygons; the coastline (land left, sea right)
cuts the extract's box into land (`earth`) and sea (`water`, kind `ocean`), so a harbour is
drawn as water though OSM maps no sea polygon.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, polygonize, unary_union

from townsquare.tiles import schema
from townsquare.tiles.schema import Feature

Coords = Sequence[tuple[float, float]]


class ExtractError(ValueError):
    """The file is no OSM extract this reader understands."""


@dataclass
class Extract:
    """What was read: drawn features, coastline pieces and the box the data covers."""

    features: list[Feature] = field(default_factory=list)
    coastline: list[LineString] = field(default_factory=list)
    bounds: list[float] = field(default_factory=lambda: [180.0, 90.0, -180.0, -90.0])

    def extend_bounds(self, coords: Coords) -> None:
        """Grow the covered box to take in these points."""
        lons, lats = [c[0] for c in coords], [c[1] for c in coords]
        self.bounds[0], self.bounds[1] = min(self.bounds[0], *lons), min(self.bounds[1], *lats)
        self.bounds[2], self.bounds[3] = max(self.bounds[2], *lons), max(self.bounds[3], *lats)

    def add_way(self, tags: Mapping[str, str], coords: Coords) -> None:
        """A way: a road, a waterway, a coastline piece or a water area (if closed)."""
        if len(coords) < 2:
            return
        name = tags.get("name", "")
        if found := schema.road(tags):
            kind, detail, zoom = found
            self.extend_bounds(coords)
            self.features.append(Feature("roads", _line(coords), kind, detail, name, zoom))
        elif water := schema.water_line(tags):
            self.features.append(Feature("water", _line(coords), water[0], "", name, water[1]))
        elif schema.is_coastline(tags):
            self.coastline.append(LineString(coords))
        elif (area := schema.water_area(tags)) and len(coords) >= 4 and coords[0] == coords[-1]:
            self.add_area(area, name, Polygon(coords))

    def add_area(self, kind: str, name: str, area: BaseGeometry) -> None:
        """A water area (lake, pond, river bank)."""
        area = shapely.make_valid(area)
        if not area.is_empty and area.area > 0:
            self.features.append(Feature("water", _shape(area), kind, "", name, 0))

    def finished(self) -> list[Feature]:
        """The features with land and sea added; ExtractError if nothing was drawn."""
        if not any(f.layer == "roads" for f in self.features):
            raise ExtractError("the extract holds no roads (highway=*) to draw")
        west, south, east, north = self.bounds
        pad = 0.01  # degrees: a margin of land around the outermost road
        frame = box(west - pad, south - pad, east + pad, north + pad)
        land, sea = split_by_coastline(frame, self.coastline)
        ocean = [Feature("water", _shape(part), "ocean", "", "", 0) for part in sea]
        earth = [Feature("earth", _shape(part), "earth", "", "", 0) for part in land]
        return earth + ocean + merge_streets(self.features)


def merge_streets(features: list[Feature]) -> list[Feature]:
    """Join the ways of one named street end to end, so its name fits along it on the map.

    OSM splits a street at every change of tag (lanes, speed, a bridge); one label needs a
    line longer than the name, which a block-long way often is not.
    """
    same: dict[tuple[str, str, str, int], list[Feature]] = {}
    kept: list[Feature] = []
    for feature in features:
        if feature.layer == "roads" and feature.name:
            key = (feature.kind, feature.kind_detail, feature.name, feature.min_zoom)
            same.setdefault(key, []).append(feature)
        else:
            kept.append(feature)
    for (kind, detail, name, zoom), ways in same.items():
        merged = linemerge([f.geometry["coordinates"] for f in ways])
        for part in getattr(merged, "geoms", [merged]):
            kept.append(Feature("roads", _line(list(part.coords)), kind, detail, name, zoom))
    return kept


def _line(coords: Coords) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coords}


def _shape(geometry: BaseGeometry) -> dict[str, Any]:
    mapped: dict[str, Any] = shapely.geometry.mapping(geometry)
    return mapped


def split_by_coastline(
    frame: Polygon, coastline: list[LineString]
) -> tuple[list[Polygon], list[Polygon]]:
    """The frame cut into (land, sea) faces; a face is sea when it lies right of the coast.

    An extract rarely holds a whole coast: small gaps between pieces (a canal's locks) are
    closed and a loose end is drawn on to the frame's nearest edge, so the coast cuts it.
    """
    if not coastline:
        return [frame], []
    merged = linemerge(MultiLineString(coastline))
    pieces = _close_gaps(list(getattr(merged, "geoms", [merged])))
    cut = [_reach_frame(piece, frame) for piece in pieces]
    faces = list(polygonize(unary_union([frame.boundary, *cut]).intersection(frame)))
    land: list[Polygon] = []
    sea: list[Polygon] = []
    for face in faces:
        (sea if _right_of_coast(face.representative_point(), cut) else land).append(face)
    return land, sea


GAP = 0.01  # degrees (about 1 km): coastline ends this close are one coast


def _close_gaps(pieces: list[LineString]) -> list[LineString]:
    """Join an open piece's end to another's start when they are close."""
    pieces = list(pieces)
    joined = True
    while joined:
        joined = False
        for a in pieces:
            if a.is_ring:
                continue
            for b in pieces:
                if b is a or b.is_ring or Point(a.coords[-1]).distance(Point(b.coords[0])) > GAP:
                    continue
                pieces.remove(a)
                pieces.remove(b)
                pieces.append(LineString([*a.coords, *b.coords]))
                joined = True
                break
            if joined:
                break
    return pieces


def _reach_frame(piece: LineString, frame: Polygon) -> LineString:
    """An open piece with each loose end inside the frame led straight to the nearest edge."""
    if piece.is_ring:
        return piece
    coords = list(piece.coords)
    edge = frame.exterior
    head, tail = Point(coords[0]), Point(coords[-1])
    if frame.contains(head):
        coords.insert(0, edge.interpolate(edge.project(head)).coords[0])
    if frame.contains(tail):
        coords.append(edge.interpolate(edge.project(tail)).coords[0])
    return LineString(coords)


def _right_of_coast(point: Point, pieces: list[LineString]) -> bool:
    line = min(pieces, key=point.distance)
    at = line.project(point)
    step = min(1e-5, line.length / 2)
    a = line.interpolate(max(at - step, 0.0))
    b = line.interpolate(min(at + step, line.length))
    cross = (b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x)
    return bool(cross < 0)


def read_extracts(paths: Sequence[Path]) -> list[Feature]:
    """The basemap features of one city's extract: one `.osm.pbf`, or Overpass JSON file(s)
    (`.json`, `.json.gz`; streets in one and water in another are read as one)."""
    kinds = {_format(path) for path in paths}
    if kinds == {"pbf"} and len(paths) == 1:
        return read_pbf(paths[0]).finished()
    if kinds == {"json"}:
        return read_overpass(paths).finished()
    raise ExtractError("give one .osm.pbf, or one or more Overpass JSON files")


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".json") or name.endswith(".json.gz"):
        return "json"
    raise ExtractError(f"{path.name}: give an .osm.pbf or an Overpass .json/.json.gz file")


def _load_json(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExtractError(f"{path.name}: not Overpass JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise ExtractError(f"{path.name}: no Overpass `elements` list")
    return data


def read_overpass(paths: Iterable[Path]) -> Extract:
    """Overpass JSON: ways with node ids (`out body`/`qt`) or inline geometry (`out geom`)."""
    extract = Extract()
    elements: list[dict[str, Any]] = []
    for path in paths:
        elements += _load_json(path)["elements"]
    nodes = {
        e["id"]: (e["lon"], e["lat"]) for e in elements if e.get("type") == "node" and "lat" in e
    }
    for element in elements:
        tags = element.get("tags") or {}
        if element.get("type") == "way":
            extract.add_way(tags, _way_coords(element, nodes))
        elif element.get("type") == "relation" and (kind := schema.water_area(tags)):
            extract.add_area(kind, tags.get("name", ""), _multipolygon(element.get("members", [])))
    return extract


def _way_coords(way: Mapping[str, Any], nodes: Mapping[int, tuple[float, float]]) -> Coords:
    if "geometry" in way:
        return [(p["lon"], p["lat"]) for p in way["geometry"] if p]
    return [nodes[ref] for ref in way.get("nodes", []) if ref in nodes]


def _multipolygon(members: Iterable[Mapping[str, Any]]) -> BaseGeometry:
    rings: dict[str, list[LineString]] = {"outer": [], "inner": []}
    for member in members:
        coords = [(p["lon"], p["lat"]) for p in member.get("geometry") or [] if p]
        if member.get("type") == "way" and len(coords) >= 2:
            rings["inner" if member.get("role") == "inner" else "outer"].append(LineString(coords))
    outer = unary_union(list(polygonize(linemerge(rings["outer"])))) if rings["outer"] else None
    if outer is None or outer.is_empty:
        return Polygon()
    if rings["inner"]:
        outer = outer.difference(unary_union(list(polygonize(linemerge(rings["inner"])))))
    return outer


def read_pbf(path: Path) -> Extract:
    """An .osm.pbf through pyosmium: ways with node locations, water multipolygons as areas.

    Multipolygons need the file sorted by id; an unsorted one (an editor's export, with
    negative ids) is read again without them, its streets intact.
    """
    try:
        return _read_pbf(path, areas=True)
    except ExtractError:
        return _read_pbf(path, areas=False)


def _read_pbf(path: Path, *, areas: bool) -> Extract:
    try:
        import osmium
    except ImportError as exc:  # the `tiles` extra
        raise ExtractError(
            "reading .osm.pbf needs pyosmium: pip install 'townsquare[tiles]'"
        ) from exc
    extract = Extract()
    processor = osmium.FileProcessor(str(path)).with_locations()
    try:
        for obj in processor.with_areas() if areas else processor:
            if isinstance(obj, osmium.osm.Way):
                coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                extract.add_way(dict(obj.tags), coords)
            elif isinstance(obj, osmium.osm.Area) and not obj.from_way():
                tags = dict(obj.tags)
                if kind := schema.water_area(tags):
                    extract.add_area(kind, tags.get("name", ""), _area_polygon(obj))
    except RuntimeError as exc:
        raise ExtractError(f"{path.name}: not a readable .osm.pbf ({exc})") from exc
    return extract


def _area_polygon(area: Any) -> BaseGeometry:
    parts: list[Polygon] = []
    for outer in area.outer_rings():
        holes = [[(n.lon, n.lat) for n in inner] for inner in area.inner_rings(outer)]
        parts.append(Polygon([(n.lon, n.lat) for n in outer], holes))
    return unary_union(parts) if parts else Polygon()


def to_geojson(features: Iterable[Feature]) -> Iterator[str]:
    """Each feature as one line of GeoJSON, with tippecanoe's layer and first zoom."""
    for feature in features:
        yield json.dumps(
            {
                "type": "Feature",
                "tippecanoe": {"layer": feature.layer, "minzoom": feature.min_zoom},
                "properties": feature.properties(),
                "geometry": feature.geometry,
            },
            separators=(",", ":"),
        )
