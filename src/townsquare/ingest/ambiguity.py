"""Local times that happen twice (the hour the clocks go back), read the way the feed shows.

A feed without UTC offsets writes 01:30 twice on the night daylight saving time ends. With
`ambiguous = "infer"` (the default) the second reading is chosen when the feed itself says
the first is wrong, else the first:

1. a call cannot have happened after the snapshot (fetch) that holds it: if the second
   reading is after it, the first is the one;
2. ids of a source grow with time: a call whose id follows another's did not happen before
   it. If the first reading is earlier than the time of the nearest lower id (in the same
   batch, else already stored) and the second is not, the second is the one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from townsquare.ingest.normalize import NormalizedRecord

Previous = Callable[[str], datetime | None]
"""The time of the stored record with the nearest id below the given one, if any."""
_DIGITS = re.compile(r"(\d+)")


def id_order(external_id: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key reading digit runs as numbers: "F9" before "F10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(external_id)
    )


def resolve(
    records: Sequence[NormalizedRecord], *, taken_at: datetime, previous: Previous
) -> list[NormalizedRecord]:
    """The records with each ambiguous time settled (see the module docstring)."""
    if not any(r.occurred_later is not None for r in records):
        return list(records)
    order = sorted(range(len(records)), key=lambda i: id_order(records[i].external_id))
    settled = list(records)
    last: tuple[tuple[tuple[int, int | str], ...], datetime] | None = None
    for index in order:
        record = records[index]
        key = id_order(record.external_id)
        if record.occurred_later is not None:
            before = last[1] if last is not None and last[0] < key else None
            if before is None:
                before = previous(record.external_id)
            record = _choose(record, taken_at, before)
            settled[index] = record
        last = (key, record.occurred_at)
    return settled


def _choose(
    record: NormalizedRecord, taken_at: datetime, before: datetime | None
) -> NormalizedRecord:
    later = record.occurred_later
    assert later is not None
    first = replace(record, occurred_later=None)
    if later > taken_at:
        return first
    if before is not None and record.occurred_at < before <= later:
        return replace(first, occurred_at=later)
    return first
