"""An empty or truncated snapshot closes nothing; calls close at the snapshot's own time; the
hour the clocks go back is read the way the feed shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.feeds import config
from townsquare.ingest import health, service
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.models import SourceRecord
from townsquare.ingest.sources.base import RawItem

T1 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _active(**lifecycle: Any) -> SourceConfig:
    return config(
        "json",
        "/unused.json",
        lifecycle={"snapshot": True, "snapshot_time": "retrieved", **lifecycle},
    )


def _snapshot(ids: range, retrieved: datetime) -> list[RawItem]:
    return [
        RawItem(
            f"record {n}",
            {
                "incident_number": f"F{n:04d}",
                "type": "Aid Response",
                "address": "500 Block of Pine St",
                "latitude": "47.61",
                "longitude": "-122.33",
                "datetime": (T1 - timedelta(minutes=n)).isoformat(),
                "retrieved": retrieved.isoformat(),
            },
        )
        for n in ids
    ]


def _open(session: Session) -> int:
    return len(session.scalars(select(SourceRecord).where(SourceRecord.closed_at.is_(None))).all())


def test_an_empty_snapshot_is_held_back_and_the_next_good_one_closes_at_its_own_time(
    factory: sessionmaker[Session],
) -> None:
    source = _active()
    service.ingest_items(factory, source, _snapshot(range(1, 21), T1), now=T1)
    empty = service.ingest_items(factory, source, [], now=T1 + timedelta(minutes=2))
    assert empty.closed == 0
    assert empty.suspect is not None
    assert "holds 0 records and would close 20 of 20 open calls" in empty.suspect
    truncated = service.ingest_items(
        factory,
        source,
        _snapshot(range(1, 4), T1 + timedelta(minutes=3)),
        now=T1 + timedelta(minutes=3),
    )
    assert truncated.suspect is not None
    assert truncated.closed == 0
    with factory() as session:
        assert _open(session) == 20
        [row] = [r for r in health.list_sources(session) if r.slug == source.slug]
        assert row.last_error is not None
        assert row.last_error.startswith("suspect snapshot held back")
        assert row.failures == 0
    # Fetched at 12:10 but published at 12:04: five calls are gone, closed at 12:04.
    published = T1 + timedelta(minutes=4)
    good = service.ingest_items(
        factory, source, _snapshot(range(1, 16), published), now=T1 + timedelta(minutes=10)
    )
    assert good.suspect is None
    assert good.closed == 5
    with factory() as session:
        closed = session.scalars(select(SourceRecord).where(SourceRecord.closed_at.is_not(None)))
        assert {r.closed_at for r in closed} == {published}
        assert _open(session) == 15


def test_a_small_source_and_a_busy_hour_are_not_suspect(factory: sessionmaker[Session]) -> None:
    source = _active()
    service.ingest_items(factory, source, _snapshot(range(1, 6), T1), now=T1)
    few = service.ingest_items(factory, source, [], now=T1 + timedelta(minutes=1))
    assert (few.suspect, few.closed) == (None, 5)  # fewer than guard_from_open calls open
    later = T1 + timedelta(minutes=2)
    service.ingest_items(factory, source, _snapshot(range(10, 30), later), now=later)
    # As many calls as before, nearly all new: a real turnover.
    busy = service.ingest_items(
        factory,
        source,
        _snapshot(range(28, 48), later + timedelta(minutes=1)),
        now=T1 + timedelta(hours=1),
    )
    assert busy.suspect is None
    assert busy.closed == 18


def test_the_guard_share_is_per_source(factory: sessionmaker[Session]) -> None:
    source = _active(max_close_share=1.0)
    service.ingest_items(factory, source, _snapshot(range(1, 21), T1), now=T1)
    empty = service.ingest_items(factory, source, [], now=T1 + timedelta(minutes=2))
    assert (empty.suspect, empty.closed) == (None, 20)


# --- the hour the clocks go back -----------------------------------------------------------

FALL_BACK = "America/Los_Angeles"  # 2026-11-01 01:00-02:00 happens twice (PDT, then PST)


def _local(
    ids_and_times: list[tuple[str, str]], ambiguous: str = "infer"
) -> tuple[SourceConfig, list[RawItem]]:
    source = config(
        "json",
        "/unused.json",
        fields={
            "external_id": "incident_number",
            "call_type": "type",
            "latitude": "latitude",
            "longitude": "longitude",
            "occurred_at": {
                "column": "datetime",
                "formats": ["%Y-%m-%d %H:%M"],
                "ambiguous": ambiguous,
            },
        },
    )
    items = [
        RawItem(
            f"record {i}",
            {
                "incident_number": number,
                "type": "Aid Response",
                "latitude": "47.61",
                "longitude": "-122.33",
                "datetime": when,
            },
        )
        for i, (number, when) in enumerate(ids_and_times)
    ]
    return source, items


def _times(factory: sessionmaker[Session]) -> dict[str, datetime]:
    with factory() as session:
        return {r.external_id: r.occurred_at for r in session.scalars(select(SourceRecord))}


def test_a_later_id_is_not_earlier_so_the_second_reading_is_chosen(
    factory: sessionmaker[Session],
) -> None:
    source, items = _local([("F1001", "2026-11-01 01:50"), ("F1002", "2026-11-01 01:10")])
    service.ingest_items(factory, source, items, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    times = _times(factory)
    assert times["F1001"] == datetime(2026, 11, 1, 8, 50, tzinfo=UTC)  # 01:50 PDT
    assert times["F1002"] == datetime(2026, 11, 1, 9, 10, tzinfo=UTC)  # 01:10 PST


def test_the_id_order_also_holds_against_stored_calls(factory: sessionmaker[Session]) -> None:
    source, items = _local([("F1001", "2026-11-01 01:50"), ("F1002", "2026-11-01 01:10")])
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    service.ingest_items(factory, source, items[:1], now=now)
    service.ingest_items(factory, source, items[1:], now=now)
    assert _times(factory)["F1002"] == datetime(2026, 11, 1, 9, 10, tzinfo=UTC)


def test_a_time_is_never_after_the_snapshot_that_holds_it(factory: sessionmaker[Session]) -> None:
    source, items = _local([("F1001", "2026-11-01 00:50"), ("F1002", "2026-11-01 01:40")])
    # Fetched at 01:45 PDT: 01:40 PST (09:40 UTC) has not happened yet.
    service.ingest_items(factory, source, items, now=datetime(2026, 11, 1, 8, 45, tzinfo=UTC))
    assert _times(factory)["F1002"] == datetime(2026, 11, 1, 8, 40, tzinfo=UTC)


def test_without_evidence_the_first_reading_and_earlier_is_always_first(
    factory: sessionmaker[Session],
) -> None:
    source, items = _local(
        [("F1001", "2026-11-01 01:50"), ("F1002", "2026-11-01 01:10")], ambiguous="earlier"
    )
    service.ingest_items(factory, source, items, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    times = _times(factory)
    assert times["F1002"] == datetime(2026, 11, 1, 8, 10, tzinfo=UTC)
    alone, first = _local([("F2001", "2026-11-01 01:30")])
    service.ingest_items(
        factory,
        alone.model_copy(update={"slug": "test-other"}),
        first,
        now=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    assert _times(factory)["F2001"] == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
