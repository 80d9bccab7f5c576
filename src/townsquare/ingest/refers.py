"""Records that close earlier records by id ([lifecycle] refers): a CAP Cancel.

A Cancel names the alerts it withdraws in its `references`. It closes their incidents at its
own `sent` time whether or not it can be read as a record itself: an IPAWS Cancel often has
no `info` (no event, no area), and one whose area is only zone codes has no point. Such a
Cancel is kept as applied when it closed something, and quarantined naming the references
when the source holds none of the alerts (a replay applies it once they arrive).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from townsquare.ingest import lifecycle
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import RawRecord, Source
from townsquare.ingest.normalize import MAX_ID_LENGTH, NormalizeError, plan_for
from townsquare.ingest.sources.base import RawItem


@dataclass(frozen=True, slots=True)
class Closing:
    """The ids a closing record refers to, and when it closes them."""

    ids: tuple[str, ...]
    at: datetime


def closing_of(
    item: RawItem, config: SourceConfig, retime: Callable[[datetime], datetime] | None = None
) -> Closing | None:
    """What `item` closes by reference, if it closes and refers (None when its time cannot be
    read: normalize quarantines it naming the column). An unfaithful item closes nothing."""
    column = config.lifecycle.refers
    plan = plan_for(config)
    if column is None or plan.status is None or item.defect is not None:
        return None
    ids = tuple((plan.get(item.payload, column) or "").split())
    status = (plan.get(item.payload, plan.status) or "").casefold()
    if not ids or status not in plan.closed_values:
        return None
    time = plan.version or plan.times[0]
    try:
        at = time.parse(plan.need(item.payload, time.column))
    except NormalizeError:
        return None
    return Closing(ids, retime(at) if retime else at)


def settle(
    session: Session,
    source: Source,
    config: SourceConfig,
    raw: RawRecord,
    closing: Closing,
    fault: NormalizeError | None,
    *,
    now: datetime,
) -> tuple[int, str | None]:
    """Close what a record references: how many incidents closed, and the field a record
    unreadable itself (`fault`) is quarantined under when it closed nothing we hold."""
    outcome = lifecycle.close_referenced(
        session, source, config, closing.ids, at=closing.at, now=now
    )
    if fault is None:
        return outcome.closed, None
    if outcome.incidents:  # kept as applied, linked to the first incident it closed
        raw.outcome, raw.error_field, raw.error = "normalized", None, None
        raw.external_id = closing.ids[0][:MAX_ID_LENGTH]
        raw.incident_id = outcome.incidents[0].id
        return outcome.closed, None
    field = config.lifecycle.refers or fault.field
    raw.outcome, raw.error_field = "quarantined", field
    raw.error = f"{field}: closes records not received (yet): {', '.join(closing.ids)}"
    return outcome.closed, field
