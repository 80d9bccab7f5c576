"""Geocoded ingest benchmark: the shipped samples with their coordinates removed.

    .venv/bin/python bench/geocoded_ingest.py [--seattle FILE] [--sf FILE]

Builds the place index of the bundled OpenStreetMap extracts (samples/osm), reads each sample
with its shipped mapping (the true point), then again with the coordinate columns dropped and
its address geocoded as ingest does (`geocode.accept` left at its default: address, block and
intersection). Prints, per feed, the share of records placed, the median and 90th percentile
distance to the true point, and the precisions found. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from townsquare.geo import haversine_m
from townsquare.ingest.config import MAPPINGS_DIR, SourceConfig, load_source_config
from townsquare.ingest.geocoding import Placer
from townsquare.ingest.normalize import NormalizedRecord, NormalizeError, normalize
from townsquare.ingest.settle import settle
from townsquare.ingest.sources.registry import adapter_for
from townsquare.places import index
from townsquare.places.cli import sample_cities
from townsquare.places.local import LocalGeocoder

NOW = datetime(2026, 12, 1, tzinfo=UTC)
FEEDS = {
    "seattle": ("seattle_fire_911.toml", "Seattle"),
    "sf": ("sf_fire_calls.toml", "San Francisco"),
}


def without_coordinates(config: SourceConfig, city: str) -> SourceConfig:
    """The mapping with no coordinate column: every record is placed from its address."""
    fields = config.fields.model_copy(
        update={"latitude": None, "longitude": None, "location": None}
    )
    geocode = config.geocode.model_copy(update={"city": city})
    return config.model_copy(update={"fields": fields, "geocode": geocode})


def measure(config: SourceConfig, city: str, geocoder: LocalGeocoder) -> dict[str, object]:
    """Placed share, distances and precisions of one feed."""
    truth: list[NormalizedRecord] = []
    for item in adapter_for(config.kind).fetch(config):
        try:
            record = normalize(item, config)
        except NormalizeError:
            continue  # no true point to compare with
        truth.append(record)
    geocoding = without_coordinates(config, city)
    bare = [
        NormalizedRecord(**{**_fields(r), "point": None, "precision": "coordinates"}) for r in truth
    ]
    started = time.perf_counter()
    placed = settle(None, None, geocoding, bare, now=NOW, placer=Placer(geocoding, geocoder))
    elapsed = time.perf_counter() - started
    distances = []
    precisions: Counter[str] = Counter()
    for true, found in zip(truth, placed, strict=True):
        if isinstance(found, NormalizeError):
            only = found.reason.partition("(only the ")[2].partition(" was found")[0]
            precisions[f"{only} refused" if only else "not found"] += 1
            continue
        if found.point is None or true.point is None:
            continue
        precisions[found.precision] += 1
        distances.append(
            haversine_m(true.point.lat, true.point.lon, found.point.lat, found.point.lon)
        )
    distances.sort()
    return {
        "records": len(truth),
        "addresses": len({r.address for r in truth}),
        "placed": len(distances) / max(len(truth), 1),
        "median_m": statistics.median(distances) if distances else float("nan"),
        "p90_m": distances[int(0.9 * (len(distances) - 1))] if distances else float("nan"),
        "precisions": precisions,
        "seconds": elapsed,
    }


def _fields(record: NormalizedRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in NormalizedRecord.__dataclass_fields__}


def main() -> None:
    """Print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seattle", type=Path, help="Another Seattle CSV (e.g. the full export).")
    parser.add_argument("--sf", type=Path, help="Another San Francisco CSV.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "places.sqlite"
        started = time.perf_counter()
        index.build(path, sample_cities())
        print(
            f"place index of the bundled OSM samples built in {time.perf_counter() - started:.1f} s"
        )
        geocoder = LocalGeocoder(path)
        rows = []
        for name, (mapping, city) in FEEDS.items():
            config = load_source_config(MAPPINGS_DIR / mapping)
            other = getattr(args, name)
            if other is not None:
                config = config.model_copy(update={"location": str(other.resolve())})
            rows.append((name, measure(config, city, geocoder)))
    head = (
        f"{'feed':8} {'records':>7} {'addresses':>9} {'placed':>7} {'median m':>9} "
        f"{'p90 m':>8} {'s':>6}  precisions"
    )
    print(head)
    print("-" * len(head))
    for name, row in rows:
        precisions = ", ".join(f"{k} {v}" for k, v in sorted(row["precisions"].items()))  # type: ignore[attr-defined]
        print(
            f"{name:8} {row['records']:>7} {row['addresses']:>9} {row['placed']:>7.1%} "
            f"{row['median_m']:>9.0f} {row['p90_m']:>8.0f} {row['seconds']:>6.1f}  {precisions}"
        )


if __name__ == "__main__":
    main()
