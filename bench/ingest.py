"""Ingestion throughput: synthetic CAD rows as CSV and as ArcGIS JSON.

Prints a table:
- the peers, measured in the same run: reading the file alone with the csv module, with
  pyarrow's CSV reader and with json.loads;
- parse + normalize + dedupe (one core, no database): rows/s through the real adapter and
  `normalize`, with the content-hash dedupe the store applies, per wall second and per
  CPU second of this process (the figure to compare on a machine shared with others);
  record by record (pushed records), and column by column (ingest.columnar: files and
  pages), both as normalized columns and with every NormalizedRecord built;
- stored records/s through `service.ingest_items` (raw record, source record, incident,
  outbox) on SQLite and, if TOWNSQUARE_BENCH_POSTGRES_URL is set, PostgreSQL.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--store-rows 100000] [--skip-store]
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import text

from townsquare.db import make_engine, make_sessionmaker
from townsquare.ingest import service
from townsquare.ingest.columnar.digest import row_digests
from townsquare.ingest.columnar.records import Normalized, first_seen
from townsquare.ingest.columnar.tables import Page
from townsquare.ingest.config import (
    MAPPINGS_DIR,
    SourceConfig,
    bundled_mappings,
    load_source_config,
)
from townsquare.ingest.normalize import NormalizeError, normalize
from townsquare.ingest.sources.arcgis import ArcgisSource
from townsquare.ingest.sources.base import RawItem
from townsquare.ingest.sources.csv import CsvSource
from townsquare.migrations import runner
from townsquare.migrations.tables import Base

TYPES = ["Motor Vehicle Accident", "Aid Response", "Structure Fire", "Fire Alarm", "Burglary"]
CATEGORIES = {
    "Motor Vehicle Accident": "traffic.collision",
    "Aid Response": "medical",
    "Structure Fire": "fire.structure",
    "Fire Alarm": "fire.alarm",
    "Burglary": "crime.burglary",
}
STREETS = ["Pine St", "Pike St", "1st Ave", "Broadway", "Rainier Ave S", "Aurora Ave N"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic(rows: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """CAD rows around Seattle; about 3% repeat an earlier row exactly (exports do)."""
    rng = random.Random(seed)
    recent: list[dict[str, Any]] = []
    for n in range(rows):
        if recent and rng.random() < 0.03:
            yield rng.choice(recent)
            continue
        row = {
            "id": f"F{n:09d}",
            "type": rng.choice(TYPES),
            "epoch_ms": int((START + timedelta(seconds=n * 30)).timestamp() * 1000),
            "address": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            "lat": round(47.5 + rng.random() * 0.2, 6),
            "lon": round(-122.4 + rng.random() * 0.15, 6),
        }
        recent = [*recent[-99:], row]
        yield row


def config(kind: str, location: str, prefix: str = "") -> SourceConfig:
    """A source reading the synthetic file."""
    return SourceConfig.model_validate(
        {
            "slug": f"bench-{kind}",
            "name": "Benchmark feed",
            "kind": kind,
            "location": location,
            "agency": {"slug": "bench", "name": "Bench Fire", "time_zone": "America/Los_Angeles"},
            "fields": {
                "external_id": f"{prefix}id",
                "call_type": f"{prefix}type",
                "address": f"{prefix}address",
                "latitude": f"{prefix}lat",
                "longitude": f"{prefix}lon",
                "occurred_at": {"column": f"{prefix}epoch_ms", "formats": ["epoch_ms"]},
            },
            "categories": CATEGORIES,
        }
    )


def write_csv(path: Path, rows: int) -> None:
    """The synthetic rows as a CSV file with a header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "type", "epoch_ms", "address", "lat", "lon"])
        writer.writeheader()
        writer.writerows(synthetic(rows))


def write_arcgis(path: Path, rows: int) -> None:
    """The synthetic rows as one Esri JSON query response."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"fields": [], "features": [')
        for n, row in enumerate(synthetic(rows)):
            handle.write(("," if n else "") + json.dumps({"attributes": row}))
        handle.write("]}")


def parse_normalize_dedupe(items: Iterator[RawItem], source: SourceConfig) -> tuple[int, int]:
    """Rows read and records kept after the store's content-hash dedupe."""
    seen: set[str] = set()
    rows = kept = 0
    for item in items:
        rows += 1
        digest = service.content_hash(item.payload)
        if digest in seen:
            continue
        seen.add(digest)
        try:
            normalize(item, source)
        except NormalizeError:
            continue
        kept += 1
    return rows, kept


def columnar(
    pages: Iterator[Page | Iterator[RawItem]], source: SourceConfig, *, build: bool
) -> tuple[int, int]:
    """Rows read and records kept, page by page: row hashes, repeats dropped, then the
    distinct rows normalized as columns (and, with `build`, as NormalizedRecords)."""
    rows = kept = 0
    for page in pages:
        assert isinstance(page, Page)  # the synthetic files are read as columns
        rows += page.rows
        distinct = page.only(first_seen(row_digests(page)))
        normalized = Normalized(distinct, source)
        if build:
            records = normalized.records()
            kept += sum(1 for record in records if not isinstance(record, NormalizeError))
        else:
            kept += int((~normalized.odd).sum())
    return rows, kept


def peers(csv_path: Path, json_path: Path) -> list[tuple[str, str, int, float, float | None]]:
    """The readers alone: the csv module, pyarrow's CSV reader (one thread), json.loads."""

    def csv_module() -> int:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            return sum(1 for _ in csv.DictReader(handle))

    def arrow() -> int:
        options = pacsv.ReadOptions(use_threads=False, block_size=1 << 24)
        return int(pacsv.read_csv(csv_path, read_options=options).num_rows)

    def json_loads() -> int:
        return len(json.loads(json_path.read_bytes())["features"])

    found = []
    for name, stage, job in (
        ("CSV", "read: csv module (dicts)", csv_module),
        ("CSV", "read: pyarrow (table)", arrow),
        ("ArcGIS JSON", "read: json.loads", json_loads),
    ):
        rows, seconds, cpu = timed(job)
        found.append((name, stage, rows, rows / seconds, rows / cpu))
    return found


SEATTLE_EXPORT = Path(
    os.environ.get(
        "TOWNSQUARE_BENCH_SEATTLE_CSV",  # the whole export (13,771 rows), where it is at hand
        str(
            MAPPINGS_DIR.parent.parent
            / "samples/seattle_fire_911/seattle_fire_911_calls_extract.csv"
        ),
    )
)


def real_export() -> list[tuple[str, str, int, float, float | None]]:
    """The real Seattle export (13,771 rows, "%m/%d/%Y %I:%M:%S %p %z" times, rows without
    ids or coordinates) through its shipped mapping, record by record and as columns."""
    mapping = load_source_config(bundled_mappings()["seattle_fire_911"])
    source = mapping.model_copy(update={"location": str(SEATTLE_EXPORT)})
    adapter = CsvSource()
    found = []
    for stage, job in (
        ("per record", lambda: parse_normalize_dedupe(adapter.fetch(source), source)),
        ("columnar, records", lambda: columnar(adapter.pages(source), source, build=True)),
    ):
        (rows, _kept), seconds, cpu = timed(job)
        found.append(("Seattle CSV", f"p+n+d: {stage}", rows, rows / seconds, rows / cpu))
    return found


def timed(job: Callable[[], Any]) -> tuple[Any, float, float]:
    """The job's result, its wall time and the CPU time of this process, in seconds.

    On a shared machine the wall time depends on the neighbours; the CPU time is the cost.
    """
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    result = job()
    return result, time.perf_counter() - started, time.process_time() - cpu


def store_rate(url: str, items: list[RawItem], source: SourceConfig) -> float:
    """Stored records per second through the real ingest path on an empty store."""
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    runner.upgrade(engine)
    factory = make_sessionmaker(engine)
    report, seconds, _cpu = timed(lambda: service.ingest_items(factory, source, iter(items)))
    engine.dispose()
    stored = report.created + report.merged + report.updated
    return stored / seconds


def store_rates(
    base: Path, source: SourceConfig, rows: int
) -> list[tuple[str, str, int, float, float | None]]:
    """Stored records/s on SQLite and, if configured, PostgreSQL."""
    sample = list(CsvSource().fetch(source))[:rows]
    sqlite_url = f"sqlite:///{base / 'bench.db'}"
    found: list[tuple[str, str, int, float, float | None]] = [
        ("CSV", "stored, SQLite", len(sample), store_rate(sqlite_url, sample, source), None)
    ]
    postgres = os.environ.get("TOWNSQUARE_BENCH_POSTGRES_URL")
    if postgres:
        rate = store_rate(postgres, sample, source)
        found.append(("CSV", "stored, PostgreSQL", len(sample), rate, None))
    return found


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--store-rows", type=int, default=100_000)
    parser.add_argument("--skip-store", action="store_true", help="Measure parsing only.")
    args = parser.parse_args()
    results: list[tuple[str, str, int, float, float | None]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        csv_path, json_path = base / "calls.csv", base / "calls.json"
        write_csv(csv_path, args.rows)
        write_arcgis(json_path, args.rows)
        csv_source = config("csv", str(csv_path))
        arcgis_source = config("arcgis", str(json_path), prefix="attributes.")
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
        results.extend(peers(csv_path, json_path))
        for name, source, adapter in (
            ("CSV", csv_source, CsvSource()),
            ("ArcGIS JSON", arcgis_source, ArcgisSource()),
        ):
            stages: list[tuple[str, Callable[[], tuple[int, int]]]] = [
                ("per record", lambda s=source, a=adapter: parse_normalize_dedupe(a.fetch(s), s)),
                (
                    "columnar, columns",
                    lambda s=source, a=adapter: columnar(a.pages(s), s, build=False),
                ),
                (
                    "columnar, records",
                    lambda s=source, a=adapter: columnar(a.pages(s), s, build=True),
                ),
            ]
            kept_by: dict[str, int] = {}
            for stage, job in stages:
                (rows, kept), seconds, cpu = timed(job)
                kept_by[stage] = kept
                results.append((name, f"p+n+d: {stage}", rows, rows / seconds, rows / cpu))
            assert len(set(kept_by.values())) == 1, kept_by  # every path keeps the same rows
        if SEATTLE_EXPORT.exists():
            results.extend(real_export())
        if not args.skip_store:
            results.extend(store_rates(base, csv_source, args.store_rows))
    print(f"{'format':<12} {'stage':<30} {'rows':>10} {'rows/s':>12} {'rows/CPU-s':>12}")
    for name, stage, rows, rate, cpu_rate in results:
        per_cpu = f"{cpu_rate:>12,.0f}" if cpu_rate else f"{'':>12}"
        print(f"{name:<12} {stage:<30} {rows:>10,} {rate:>12,.0f} {per_cpu}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if not os.environ.get("TOWNSQUARE_BENCH_POSTGRES_URL"):
        print("(set TOWNSQUARE_BENCH_POSTGRES_URL to a scratch database to measure PostgreSQL)")
    assert Base.metadata.tables  # every table is known to the migrations run above


if __name__ == "__main__":
    main()
