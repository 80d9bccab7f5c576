"""Geocoder accuracy and speed on the bundled samples, with their published points as truth.

Builds the place index of the bundled OSM extracts (printing the time and size), then
geocodes every distinct address of the Seattle fire 911 sample that is an intersection
("3rd Ave / Pike St") and every distinct block address of the SF fire calls sample
("100 Block of MARKET ST"), and prints per set: how many were placed, at which precision,
and the median and 90th-percentile distance (m) from the geocoded point to the published one.
Run: `.venv/bin/python bench/places.py`.
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from townsquare.geo import haversine_m
from townsquare.places import index
from townsquare.places.cli import sample_cities
from townsquare.places.local import LocalGeocoder
from townsquare.places.service import Place

SAMPLES = Path(__file__).parents[1] / "src" / "townsquare" / "samples"
SEATTLE = SAMPLES / "seattle_fire_911" / "seattle_fire_911_calls_extract.csv"
SF = SAMPLES / "sf_fire_calls" / "sf-fire-calls.csv"
POINT = re.compile(r"\(\s*(-?\d+\.\d+),\s*(-?\d+\.\d+)\s*\)")


def seattle_corners() -> dict[str, tuple[float, float]]:
    """Distinct intersection addresses of the Seattle sample and their published point."""
    found = {}
    with SEATTLE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if " / " in row["Address"] and row["Latitude"]:
                found[row["Address"]] = (float(row["Latitude"]), float(row["Longitude"]))
    return found


def sf_blocks() -> dict[str, tuple[float, float]]:
    """Distinct block addresses of the SF sample and their published point."""
    found = {}
    with SF.open(newline="") as handle:
        for row in csv.DictReader(handle):
            point = POINT.search(row["Location"])
            if " Block of " in row["Address"] and point:
                found[row["Address"]] = (float(point.group(1)), float(point.group(2)))
    return found


def report(
    name: str, truth: dict[str, tuple[float, float]], geocoder: LocalGeocoder, city: str
) -> None:
    """Share placed, precision and distances for one set of addresses."""
    placed: list[tuple[Place, float]] = []
    started = time.perf_counter()
    for address, point in truth.items():
        place = geocoder.locate_address(address, city)
        if place is not None:
            placed.append((place, haversine_m(place.lat, place.lon, *point)))
    per_query_ms = (time.perf_counter() - started) * 1000 / max(len(truth), 1)
    print(f"\n{name}: {len(truth)} distinct addresses, {per_query_ms:.2f} ms per lookup")
    print(f"  placed {len(placed)} ({100 * len(placed) / len(truth):.1f} %)")
    by_precision = Counter(place.precision for place, _ in placed)
    for precision, count in by_precision.most_common():
        distances = sorted(d for p, d in placed if p.precision == precision)
        ninetieth = distances[int(0.9 * (len(distances) - 1))]
        print(
            f"  {precision:>12}: {count:4d}  median {statistics.median(distances):7.0f} m"
            f"  p90 {ninetieth:7.0f} m"
        )
    if placed:
        distances = [d for _, d in placed]
        median = statistics.median(distances)
        print(f"  {'all placed':>12}: {len(placed):4d}  median {median:7.0f} m")


def main() -> None:
    """Build the index, then geocode both sample sets."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "places.sqlite"
        wall, cpu = time.perf_counter(), time.process_time()
        counts = index.build(target, sample_cities())
        print(
            f"index of the bundled samples: {time.perf_counter() - wall:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU, {target.stat().st_size / 1e6:.1f} MB; "
            f"{counts.streets} streets, {counts.intersections} intersections, "
            f"{counts.places} places, {counts.addresses} addresses"
        )
        geocoder = LocalGeocoder(target)
        report("Seattle fire 911, intersections", seattle_corners(), geocoder, "Seattle")
        report("SF fire calls, hundred blocks", sf_blocks(), geocoder, "San Francisco")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
