"""Each live incident's public GeoJSON Feature, encoded once and kept beside the feed index.

A feed page is then the index's ids looked up here and joined: no database row, no pydantic
model, no coarsening per request. An entry is made when its incident is published or updated
(from the same bus event that updates the index), or on first read for an incident the index
was rebuilt with, and dropped on every event about its incident, so a page never serves bytes
older than the index's own view. `generation` counts events: a fill read from the store
before an event is not kept after it (the event may have changed what was read). A few
changes reach the Feature with no event about its incident (an agency renamed, a resident's
photo approved on a merged post), so an entry is also read again from the store once it is
`MAX_AGE_S` old: such a change shows within a minute, at one store read per page a minute.

The Feature itself is the GeoJSON format's (`formats.geojson.feature`); the platform hands it
in, since incidents sit below the formats in the layers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from townsquare.incidents.schemas import IncidentPublic

_LIMIT = 1 << 21
"""Entries kept at most (a few hundred bytes each); past it the store starts over."""
MAX_AGE_S = 60.0
"""Seconds an entry is served before it is read from the store again."""


class Encoded(NamedTuple):
    """One incident's id, Feature as JSON bytes, their digest, its time and last change, and
    when it was encoded (monotonic seconds)."""

    id: int
    body: bytes
    tag: bytes
    occurred_at: datetime
    updated_at: datetime
    made_at: float = 0.0


def dumps(value: object) -> bytes:
    """JSON exactly as Starlette's JSONResponse renders it, so pages stay byte-identical."""
    text = json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    )
    return text.encode("utf-8")


Feature = Callable[[IncidentPublic], object]
"""What an incident is in the feed's JSON (the GeoJSON Feature)."""


def encode(incident: IncidentPublic, feature: Feature, made_at: float = 0.0) -> Encoded:
    """The stored form of one public incident."""
    body = dumps(feature(incident))
    tag = hashlib.blake2b(body, digest_size=8).digest()
    return Encoded(incident.id, body, tag, incident.occurred_at, incident.updated_at, made_at)


class EncodedFeed:
    """id -> Encoded for incidents of the feed index; mutated under the index lock."""

    def __init__(self, feature: Feature, clock: Callable[[], float] = time.monotonic) -> None:
        self.feature = feature
        self.clock = clock
        self._items: dict[int, Encoded] = {}
        self.generation = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, incident_id: int) -> Encoded | None:
        """The encoded incident, if kept and not yet due to be read again."""
        found = self._items.get(incident_id)
        if found is not None and self.clock() - found.made_at >= MAX_AGE_S:
            return None
        return found

    def forget(self, incident_id: int) -> None:
        """Drop an incident's bytes: it changed or left the feed."""
        self.generation += 1
        self._items.pop(incident_id, None)

    def keep(self, incidents: Iterable[IncidentPublic], generation: int | None = None) -> None:
        """Store incidents read from the store, unless an event came since `generation`."""
        if generation is not None and generation != self.generation:
            return
        if len(self._items) >= _LIMIT:
            self._items.clear()
        now = self.clock()
        for incident in incidents:
            self._items[incident.id] = encode(incident, self.feature, now)

    def clear(self) -> None:
        """Forget everything (the index was rebuilt)."""
        self.generation += 1
        self._items.clear()
