"""Placing records that come without coordinates: their address, through the geocoder.

Each distinct address is asked once: the answer (found or not) is cached in the store per
normalized address, so a re-run or a reprocess never asks again. A place coarser than the
mapping's `geocode.accept` (by default a street or a named place) is never published as if
it were a point of the call: the record is quarantined ("no point: <address>"), or, when the
mapping declares `geocode.fallback`, published at that point with precision "area".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townsquare.geo import Point
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import GeocodeCache
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError
from townsquare.places.service import Geocoder, PlacesUnavailable

AREA = "area"
"""Precision of a record published at the mapping's declared fallback point."""
MAX_KEY = 300


@dataclass(frozen=True, slots=True)
class Answer:
    """What the geocoder said of one address: a point and its precision, or nothing."""

    lat: float | None
    lon: float | None
    precision: str | None


def address_key(text: str) -> str:
    """The cache key of an address: upper case, spaces collapsed."""
    return " ".join(text.upper().split())[:MAX_KEY]


class Placer:
    """Places the records of one source; answers are cached in the store (or in memory)."""

    def __init__(self, config: SourceConfig, geocoder: Geocoder | None) -> None:
        self.config = config
        self.geocoder = geocoder
        self.city = config.geocode.city
        fields = config.fields
        self.field = fields.address.key if fields.address else "address"
        self.memory: dict[str, Answer] = {}

    def place(
        self, session: Session | None, records: Sequence[NormalizedRecord], *, now: datetime
    ) -> list[NormalizedRecord | NormalizeError]:
        """Each record with its point, or the NormalizeError that quarantines it."""
        wanted = {address_key(r.address) for r in records if r.point is None and r.address}
        answers = self._cached(session, wanted)
        for key in sorted(wanted - answers.keys()):
            answer = self._ask(key)
            if answer is None:
                continue  # the geocoder is unavailable: not cached, asked again next time
            answers[key] = answer
            self._keep(session, key, answer, now)
        return [self._decide(r, answers) if r.point is None else r for r in records]

    def _cached(self, session: Session | None, keys: set[str]) -> dict[str, Answer]:
        found = {key: self.memory[key] for key in keys if key in self.memory}
        rest = keys - found.keys()
        if session is not None and rest:
            rows = session.scalars(
                select(GeocodeCache).where(
                    GeocodeCache.city == self.city, GeocodeCache.address_key.in_(rest)
                )
            )
            for row in rows:
                found[row.address_key] = Answer(row.lat, row.lon, row.precision)
        self.memory.update(found)
        return found

    def _ask(self, key: str) -> Answer | None:
        if self.geocoder is None:
            return None
        try:
            place = self.geocoder.locate_address(key, self.city or None)
        except PlacesUnavailable:
            return None
        if place is None:
            return Answer(None, None, None)
        return Answer(place.lat, place.lon, place.precision)

    def _keep(self, session: Session | None, key: str, answer: Answer, now: datetime) -> None:
        self.memory[key] = answer
        if session is None:
            return
        row = GeocodeCache(
            city=self.city,
            address_key=key,
            lat=answer.lat,
            lon=answer.lon,
            precision=answer.precision,
            looked_up_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            pass  # another worker cached the same address first: its answer is as good

    def _decide(
        self, record: NormalizedRecord, answers: dict[str, Answer]
    ) -> NormalizedRecord | NormalizeError:
        rules = self.config.geocode
        address = record.address or ""
        answer = answers.get(address_key(address)) if address else None
        if answer is not None and answer.lat is not None and answer.lon is not None:
            inside = self._inside(answer.lat, answer.lon)
            if answer.precision in rules.accept and inside:
                point = Point(answer.lat, answer.lon)
                return replace(record, point=point, precision=answer.precision or "")
        if rules.fallback is not None:
            return replace(record, point=Point(*rules.fallback), precision=AREA)
        reason = _reason(address, answer, self.geocoder is None)
        if answer is not None and answer.precision in rules.accept:
            reason = f"no point: {address} (found outside the source's bbox)"
        return NormalizeError(self.field, reason)

    def _inside(self, lat: float, lon: float) -> bool:
        if self.config.bbox is None:
            return True
        west, south, east, north = self.config.bbox
        return west <= lon <= east and south <= lat <= north


def _reason(address: str, answer: Answer | None, no_geocoder: bool) -> str:
    if not address:
        return "no point: no address to place"
    reason = f"no point: {address}"
    if answer is None:
        why = "no geocoder was given" if no_geocoder else "the geocoder is unavailable"
        return f"{reason} ({why}; reprocess the source once it is)"
    if answer.precision is not None:
        return f"{reason} (only the {answer.precision} was found: not in geocode.accept)"
    return reason
