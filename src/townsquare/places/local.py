"""The local geocoder: answers from the SQLite index, no request leaves the machine.

A corner is looked up by its two street keys first (exact, then without directions and
types), so "NE 45th St & Roosevelt Way NE" never lands on N 45th St; the words of a query then
find the rest through FTS5, ranked by how much of a name they cover, by kind and by distance.
A house number is an address point when one exists, else a point interpolated between the
nearest numbered points of the street (a hundred block), else the street itself.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from pathlib import Path

from townsquare.places.normalize import (
    LOOSE_DROP,
    Address,
    loose_key,
    pair_key,
    parse_address,
    search_terms,
    street_key,
)
from townsquare.places.service import Kind, Place, PlacesUnavailable, Precision

COLUMNS = "id, kind, name, city, lat, lon, west, south, east, north, key"
CANDIDATES = 400
KIND_ORDER = {"intersection": 0.3, "street": 0.25, "place": 0.2, "address": 0.0}
INTERPOLATE_SPAN = 400  # numbers: beyond this from the nearest point, the street is all we know


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Approximate distance in km (equirectangular), for ranking only."""
    x = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6371.0 * math.hypot(x, math.radians(b[0] - a[0]))


def _place(row: sqlite3.Row, precision: Precision | None = None) -> Place:
    """A row of `places` as a Place."""
    kind: Kind = row["kind"]
    bbox = None
    if row["west"] is not None:
        bbox = (row["west"], row["south"], row["east"], row["north"])
    return Place(
        name=row["name"],
        kind=kind,
        lat=row["lat"],
        lon=row["lon"],
        precision=precision or kind,
        city=row["city"],
        bbox=bbox,
    )


class LocalGeocoder:
    """The `Geocoder` over an index file; one read-only connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._city_names: dict[str, list[str]] = {}

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened read-only on first use."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if not self.path.exists():
                raise PlacesUnavailable("no place index: run `townsquare places build`")
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def _cities(self, hint: str | None) -> list[str] | None:
        """The indexed city a hint names, or None (every city) when it names none."""
        if not hint:
            return None
        if not self._city_names:
            for (city,) in self._db().execute("SELECT DISTINCT city FROM places"):
                self._city_names.setdefault(city.lower(), []).append(city)
        return self._city_names.get(hint.strip().lower())

    def _rows(self, where: str, args: tuple[object, ...], cities: list[str] | None) -> list[Place]:
        """Places matching a condition, limited to the cities given."""
        sql = f"SELECT {COLUMNS} FROM places WHERE {where}"  # noqa: S608 (conditions are constants)
        if cities:
            sql += f" AND city IN ({','.join('?' * len(cities))})"
            args = (*args, *cities)
        return [_place(row) for row in self._db().execute(sql + " ORDER BY id", args)]

    def _corner(self, first: str, second: str, cities: list[str] | None) -> list[Place]:
        """The intersections of two named streets: exact keys, else loose keys."""
        exact = pair_key(street_key(first), street_key(second))
        found = self._rows("key = ? AND kind = 'intersection'", (exact,), cities)
        if not found:
            loose = pair_key(loose_key(first), loose_key(second))
            found = self._rows("loose = ? AND kind = 'intersection'", (loose,), cities)
        return found

    def _street(self, name: str, cities: list[str] | None) -> Place | None:
        """A street by its key, else by its loose key."""
        found = self._rows("key = ? AND kind = 'street'", (street_key(name),), cities)
        found = found or self._rows("loose = ? AND kind = 'street'", (loose_key(name),), cities)
        return found[0] if found else None

    def _numbered(self, address: Address, cities: list[str] | None) -> Place | None:
        """A house number or hundred block on a street: exact, interpolated, or the street."""
        street = self._street(address.streets[0], cities)
        if street is None or address.number is None:
            return street
        key = street_key(street.name)
        target = address.number + 50 if address.block else address.number
        rows = (
            self._db()
            .execute(
                "SELECT number, lat, lon FROM addresses WHERE street = ? AND city = ? "
                "ORDER BY abs(number - ?) LIMIT 40",
                (key, street.city, target),
            )
            .fetchall()
        )
        if not rows or abs(rows[0][0] - target) > INTERPOLATE_SPAN:
            return street
        label = f"{address.number} {'block of ' if address.block else ''}{street.name}"
        if rows[0][0] == address.number and not address.block:
            return Place(label, "address", rows[0][1], rows[0][2], "address", street.city)
        below = [r for r in rows if r[0] <= target]
        above = [r for r in rows if r[0] > target]
        if below and above and above[0][0] - below[0][0] <= 2 * INTERPOLATE_SPAN:
            low, high = below[0], above[0]
            share = (target - low[0]) / (high[0] - low[0])
            lat = low[1] + share * (high[1] - low[1])
            lon = low[2] + share * (high[2] - low[2])
        else:
            lat, lon = rows[0][1], rows[0][2]
        return Place(label, "address", lat, lon, "block", street.city)

    def locate_address(self, text: str, city_hint: str | None = None) -> Place | None:
        """The one place a published address stands for (see `Geocoder`)."""
        address = parse_address(text)
        if address is None:
            return None
        cities = self._cities(city_hint)
        if len(address.streets) == 2:
            corners = self._corner(*address.streets, cities)
            return corners[0] if corners else None
        return self._numbered(address, cities)

    def _matches(self, terms: list[str]) -> list[Place]:
        """FTS5 candidates: every term present (the last one as a prefix)."""
        if not terms:
            return []
        expression = " ".join(f'"{term}"*' for term in terms)
        rows = self._db().execute(
            f"SELECT {COLUMNS} FROM places WHERE id IN (SELECT rowid FROM places_fts "  # noqa: S608
            "WHERE places_fts MATCH ? ORDER BY rank LIMIT ?)",
            (expression, CANDIDATES),
        )
        return [_place(row) for row in rows]

    def search(
        self, query: str, near: tuple[float, float] | None = None, limit: int = 8
    ) -> list[Place]:
        """Places matching what a person typed, best first (see `Geocoder`)."""
        address = parse_address(query)
        first: list[Place] = []
        if address and len(address.streets) == 2:
            first = self._corner(*address.streets, None)
        elif address and address.number is not None:
            located = self._numbered(address, None)
            first = [located] if located and located.kind == "address" else []
        terms = search_terms(query)
        wanted = set(terms)
        # the word being typed counts as a prefix ("pi": Pike), unless it is a type or direction
        typing = terms[-1] if terms and terms[-1] not in LOOSE_DROP else "\0"

        def score(place: Place) -> float:
            words = street_key(place.name).split()
            hits = sum(1 for word in words if word in wanted or word.startswith(typing))
            covered = hits / max(len(words), 1)
            value = covered + KIND_ORDER[place.kind]
            if near is not None:
                value -= 0.15 * math.log1p(_distance_km(near, (place.lat, place.lon)))
            return value

        first.sort(key=score, reverse=True)
        ranked = first + sorted(self._matches(terms), key=score, reverse=True)
        seen: set[tuple[str, str, float, float]] = set()
        unique = []
        for place in ranked:
            token = (place.name, place.city, round(place.lat, 4), round(place.lon, 4))
            if token not in seen:
                seen.add(token)
                unique.append(place)
        return unique[:limit]
