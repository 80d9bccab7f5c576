"""Weekly summary and desk quality benchmark over a synthetic store (SQLite, or PostgreSQL).

Fills a fresh store with `--n` public incidents spread over the 14 weeks a summary reads (the
feed benchmark's clustered metro points, its 30 days stretched to 98), 2 % of them alerts and
a third of those marked by readers, then prints p50/p99 of:
- `weekly.service.summarise` for a 1 km and a 5 km circle around places where incidents are
  (what `GET /api/v1/weekly` and the `/weekly` page run per request);
- `feedback.service.quality` over 30 days (what the desk page and `/api/v1/desk/quality` run).
Run: `.venv/bin/python bench/weekly.py [--n 500000] [--postgres URL]`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text, update

sys.path.insert(0, str(Path(__file__).parent))

from feed import centres, fill_sqlite, percentiles, timed
from feed_index import DAYS, END, synthetic_items

from townsquare.alerts.index import CircleArea
from townsquare.db import make_engine, make_sessionmaker
from townsquare.feedback import service as feedback
from townsquare.feedback.models import Feedback
from townsquare.incidents.index import IndexItem
from townsquare.incidents.models import Incident
from townsquare.migrations import runner
from townsquare.weekly import service as weekly

WEEKS = 14


def stretched(items: list[IndexItem]) -> list[IndexItem]:
    """The same points, their 30 days stretched over the 14 weeks a summary reads."""
    factor = WEEKS * 7 / DAYS
    return [
        IndexItem(i.id, i.lat, i.lon, END - (END - i.occurred_at) * factor, i.category)
        for i in items
    ]


def mark(url: str, ids: list[int], seed: int) -> int:
    """Make 2 % of the incidents alerts and have readers mark a third of those; how many marks."""
    rng = random.Random(seed)
    alerts = rng.sample(ids, len(ids) // 50)
    engine = make_engine(url)
    now = datetime.fromtimestamp(END, UTC)
    with engine.begin() as connection:
        for start in range(0, len(alerts), 5_000):
            chunk = alerts[start : start + 5_000]
            connection.execute(
                update(Incident).where(Incident.id.in_(chunk)).values(alertable=True)
            )
        votes = [
            {
                "incident_id": incident_id,
                "verdict": rng.choice(("not_useful", "inaccurate")),
                "voter": f"{incident_id:064x}",
                "signed_in": False,
                "rate_key": None,
                "created_at": now,
                "updated_at": now,
            }
            for incident_id in alerts[: len(alerts) // 3]
        ]
        if votes:
            connection.execute(insert(Feedback), votes)
    engine.dispose()
    return len(votes)


def fill_postgres(url: str, items: list[IndexItem]) -> float:
    """Empty the PostgreSQL store's incidents, then fill it as the SQLite one is filled."""
    engine = make_engine(url)
    runner.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE incident_feedback, incident CASCADE"))
    engine.dispose()
    return fill_sqlite(url, items)  # the same inserts (its upgrade finds nothing to do)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of SQLite")
    args = parser.parse_args()
    items = stretched(synthetic_items(args.n, seed=7))
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{Path(folder) / 'bench.db'}"
        filled = fill_postgres(url, items) if args.postgres else fill_sqlite(url, items)
        marks = mark(url, [i.id for i in items], seed=8)
        print(f"store: {'PostgreSQL' if args.postgres else 'SQLite'}, {args.n:,} incidents")
        print(f"filled in {filled:.1f} s; {args.n // 50:,} alerts, {marks:,} marked")
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        end = datetime.fromtimestamp(END, UTC)
        points = centres(items, args.queries, seed=9)
        print(f"{'query':<34}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
        with factory() as session:
            for radius in (1_000.0, 5_000.0):
                queue = iter(points * 2)

                def one(
                    radius: float = radius, queue: Iterator[tuple[float, float]] = queue
                ) -> object:
                    lat, lon = next(queue)
                    return weekly.summarise(session, CircleArea(lat, lon, radius), end)

                one()  # warm the cell caches
                p50, p99, mean = percentiles(timed(one, args.queries))
                label = f"weekly summary, {radius / 1000:g} km circle"
                print(f"{label:<34}{p50 / 1e3:>10.1f}{p99 / 1e3:>10.1f}{mean / 1e3:>10.1f}")
            since = end - timedelta(days=30)
            p50, p99, mean = percentiles(
                timed(lambda: feedback.quality(session, since=since, until=end), 5)
            )
            label = "desk quality, 30 days"
            print(f"{label:<34}{p50 / 1e3:>10.1f}{p99 / 1e3:>10.1f}{mean / 1e3:>10.1f}")
        engine.dispose()


if __name__ == "__main__":
    main()
