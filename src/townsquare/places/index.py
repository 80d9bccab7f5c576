"""Building the place index: one SQLite file (FTS5) of streets, corners, places and addresses.

Streets are merged by key per city (their extent is the bounding box of their nodes); a corner
is a node two differently named streets share (one entry per 200 m cluster, so a divided road
does not give three answers); named points are places; numbered points are addresses, which
also place the hundred blocks of their street. The file is written beside the old one and
moved over it, so a server reading it never sees half an index.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from townsquare.places.extracts import Point, Way, read_extract
from townsquare.places.normalize import loose_key, pair_key, street_key, tokens

SCHEMA = """
CREATE TABLE places (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, city TEXT NOT NULL,
  key TEXT NOT NULL, loose TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  south REAL, west REAL, north REAL, east REAL, weight INTEGER NOT NULL DEFAULT 1);
CREATE INDEX places_key ON places (key, kind);
CREATE INDEX places_loose ON places (loose, kind);
CREATE VIRTUAL TABLE places_fts USING fts5 (words, content='', tokenize='unicode61');
CREATE TABLE addresses (
  city TEXT NOT NULL, street TEXT NOT NULL, number INTEGER NOT NULL,
  lat REAL NOT NULL, lon REAL NOT NULL);
CREATE INDEX addresses_street ON addresses (street, number);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
CLUSTER_M = 200.0
LEADING_NUMBER = re.compile(r"\s*(\d+)")


@dataclass
class Counts:
    """What a build or a load added, for the operator."""

    streets: int = 0
    intersections: int = 0
    places: int = 0
    addresses: int = 0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lat, lon), equirectangular: exact enough within a city."""
    x = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6_371_000.0 * math.hypot(x, math.radians(b[0] - a[0]))


def _central(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The point of a list nearest their mean: always a real node on the street."""
    if len(points) == 1:
        return points[0]
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    return min(points, key=lambda p: (p[0] - lat) ** 2 + (0.5 * (p[1] - lon)) ** 2)


def _clusters(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Points grouped greedily within CLUSTER_M of a group's first point."""
    groups: list[list[tuple[float, float]]] = []
    for point in points:
        home = next((g for g in groups if _metres(g[0], point) < CLUSTER_M), None)
        if home is None:
            groups.append([point])
        else:
            home.append(point)
    return groups


def _words(*names: str) -> str:
    """The indexed words: each name's key form and its own words, for prefix typing."""
    seen: dict[str, None] = {}
    for name in names:
        for word in (*street_key(name).split(), *tokens(name)):
            seen[word] = None
    return " ".join(seen)


class Writer:
    """Rows into an open index, batched; ids are given here so the FTS rows can follow them."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.next_id = (db.execute("SELECT max(id) FROM places").fetchone()[0] or 0) + 1
        self.rows: list[tuple[object, ...]] = []
        self.words: list[tuple[int, str]] = []
        self.numbers: list[tuple[str, str, int, float, float]] = []

    def place(self, kind: str, name: str, city: str, key: str, loose: str, **where: float) -> None:
        """One searchable row and its words."""
        bbox = [where.get(side) for side in ("south", "west", "north", "east")]
        self.rows.append(
            (self.next_id, kind, name, city, key, loose, where["lat"], where["lon"], *bbox, 1)
        )
        self.words.append((self.next_id, _words(*name.split(" & "), city)))
        self.next_id += 1

    def flush(self) -> None:
        """Write the batched rows."""
        self.db.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self.rows)
        self.db.executemany("INSERT INTO places_fts (rowid, words) VALUES (?, ?)", self.words)
        self.db.executemany("INSERT INTO addresses VALUES (?,?,?,?,?)", self.numbers)
        self.rows, self.words, self.numbers = [], [], []

    def address(self, city: str, number: str, street: str, lat: float, lon: float) -> bool:
        """A numbered point: kept for block interpolation and searchable; False if unreadable."""
        digits = LEADING_NUMBER.match(number)
        if not digits or not tokens(street):
            return False
        key = street_key(street)
        self.numbers.append((city, key, int(digits.group(1)), lat, lon))
        label = f"{number} {street}"
        self.place("address", label, city, f"{int(digits.group(1))} {key}", key, lat=lat, lon=lon)
        return True


def _streets(writer: Writer, city: str, ways: list[Way], counts: Counts) -> None:
    """One row per street key, named by its most common spelling."""
    spelled: dict[str, Counter[str]] = defaultdict(Counter)
    nodes: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for way in ways:
        key = street_key(way.name)
        spelled[key][way.name] += 1
        nodes[key].extend((lat, lon) for _, lat, lon in way.nodes)
    for key, points in nodes.items():
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        lat, lon = _central(points)
        name = spelled[key].most_common(1)[0][0]
        bbox = {"south": min(lats), "west": min(lons), "north": max(lats), "east": max(lons)}
        writer.place("street", name, city, key, loose_key(name), lat=lat, lon=lon, **bbox)
        counts.streets += 1


def _intersections(writer: Writer, city: str, ways: list[Way], counts: Counts) -> None:
    """Corners: nodes shared by differently named streets, clustered per pair of streets."""
    names: dict[int, dict[str, str]] = defaultdict(dict)
    where: dict[int, tuple[float, float]] = {}
    for way in ways:
        key = street_key(way.name)
        for node, lat, lon in way.nodes:
            names[node].setdefault(key, way.name)
            where[node] = (lat, lon)
    corners: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for node, streets in names.items():
        if len(streets) < 2:
            continue
        keys = sorted(streets)
        for i, first in enumerate(keys):
            for second in keys[i + 1 :]:
                corners[(streets[first], streets[second])].append(where[node])
    for (first, second), points in corners.items():
        key, loose = (
            pair_key(street_key(first), street_key(second)),
            pair_key(loose_key(first), loose_key(second)),
        )
        for group in _clusters(points):
            lat, lon = _central(group)
            writer.place("intersection", f"{first} & {second}", city, key, loose, lat=lat, lon=lon)
            counts.intersections += 1


def _points(writer: Writer, city: str, points: list[Point], counts: Counts) -> None:
    """Named places and numbered addresses."""
    for point in points:
        if point.name:
            key = street_key(point.name)
            writer.place("place", point.name, city, key, key, lat=point.lat, lon=point.lon)
            counts.places += 1
        if point.housenumber and point.street:
            added = writer.address(city, point.housenumber, point.street, point.lat, point.lon)
            counts.addresses += added


@contextlib.contextmanager
def _fresh(target: Path) -> Iterator[sqlite3.Connection]:
    """A new index file written aside and moved over `target` once complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        yield db
        db.execute("INSERT INTO places_fts (places_fts) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    os.replace(partial, target)


def build(target: Path, cities: Iterable[tuple[str, list[Path]]]) -> Counts:
    """Build the index at `target` from each city's extracts (replacing what was there)."""
    counts = Counts()
    with _fresh(target) as db:
        writer = Writer(db)
        for city, paths in cities:
            ways: list[Way] = []
            points: list[Point] = []
            for path in paths:
                more_ways, more_points = read_extract(path)
                ways += more_ways
                points += more_points
            _streets(writer, city, ways, counts)
            _intersections(writer, city, ways, counts)
            _points(writer, city, points, counts)
            writer.flush()
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"city:{city}", "osm"))
    return counts


def load_addresses(target: Path, rows: Iterable[dict[str, str]], city: str = "") -> Counts:
    """Add OpenAddresses-style rows (LON, LAT, NUMBER, STREET, CITY ...) to a built index."""
    counts = Counts()
    db = sqlite3.connect(target)
    try:
        writer = Writer(db)
        for row in rows:
            upper = {k.strip().upper(): (v or "").strip() for k, v in row.items() if k}
            try:
                lat, lon = float(upper["LAT"]), float(upper["LON"])
            except (KeyError, ValueError):
                continue
            place = city or upper.get("CITY", "").title()
            number, street = upper.get("NUMBER", ""), upper.get("STREET", "")
            counts.addresses += writer.address(place, number, street, lat, lon)
        writer.flush()
        db.commit()
    finally:
        db.close()
    return counts


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """The rows of an OpenAddresses CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)
