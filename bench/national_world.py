"""The synthetic country of `bench/national.py`: metros, the diurnal curve, the day's
records, their feeds, and the watch areas copied into the store."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import h3
import numpy as np
from sqlalchemy import Engine

from townsquare.ingest.config import SourceConfig

CALLS_PER_YEAR = 240_000_000
CALLS_PER_DAY = CALLS_PER_YEAR / 365
PEAK_TO_TROUGH = 10.0
FIRE_SHARE = 0.1  # structure fires (alertable); the rest are traffic collisions

# Metro, lat, lon, UTC offset in standard time (hours), population (millions, 2020 MSAs).
METROS = [
    ("new-york", 40.71, -74.01, -5, 20.1), ("los-angeles", 34.05, -118.24, -8, 13.2),
    ("chicago", 41.88, -87.63, -6, 9.6), ("dallas", 32.78, -96.80, -6, 7.6),
    ("houston", 29.76, -95.37, -6, 7.1), ("washington", 38.91, -77.04, -5, 6.4),
    ("philadelphia", 39.95, -75.17, -5, 6.2), ("miami", 25.76, -80.19, -5, 6.1),
    ("atlanta", 33.75, -84.39, -5, 6.1), ("boston", 42.36, -71.06, -5, 4.9),
    ("phoenix", 33.45, -112.07, -7, 4.8), ("san-francisco", 37.77, -122.42, -8, 4.7),
    ("riverside", 33.95, -117.40, -8, 4.6), ("detroit", 42.33, -83.05, -5, 4.4),
    ("seattle", 47.61, -122.33, -8, 4.0), ("minneapolis", 44.98, -93.27, -6, 3.7),
    ("san-diego", 32.72, -117.16, -8, 3.3), ("tampa", 27.95, -82.46, -5, 3.2),
    ("denver", 39.74, -104.99, -7, 3.0), ("baltimore", 39.29, -76.61, -5, 2.8),
    ("st-louis", 38.63, -90.20, -6, 2.8), ("orlando", 28.54, -81.38, -5, 2.7),
    ("charlotte", 35.23, -80.84, -5, 2.7), ("san-antonio", 29.42, -98.49, -6, 2.6),
    ("portland", 45.52, -122.68, -8, 2.5), ("sacramento", 38.58, -121.49, -8, 2.4),
    ("pittsburgh", 40.44, -80.00, -5, 2.4), ("austin", 30.27, -97.74, -6, 2.3),
    ("las-vegas", 36.17, -115.14, -8, 2.3), ("cincinnati", 39.10, -84.51, -5, 2.3),
    ("kansas-city", 39.10, -94.58, -6, 2.2), ("columbus", 39.96, -83.00, -5, 2.1),
    ("indianapolis", 39.77, -86.16, -5, 2.1), ("cleveland", 41.50, -81.69, -5, 2.1),
    ("san-jose", 37.34, -121.89, -8, 2.0), ("nashville", 36.16, -86.78, -6, 2.0),
    ("virginia-beach", 36.85, -75.98, -5, 1.8), ("providence", 41.82, -71.41, -5, 1.7),
    ("jacksonville", 30.33, -81.66, -5, 1.6), ("milwaukee", 43.04, -87.91, -6, 1.6),
    ("raleigh", 35.78, -78.64, -5, 1.4), ("oklahoma-city", 35.47, -97.52, -6, 1.4),
    ("memphis", 35.15, -90.05, -6, 1.3), ("richmond", 37.54, -77.44, -5, 1.3),
    ("louisville", 38.25, -85.76, -5, 1.3), ("salt-lake-city", 40.76, -111.89, -7, 1.3),
    ("albuquerque", 35.08, -106.65, -7, 0.9), ("boise", 43.62, -116.21, -7, 0.8),
]  # fmt: skip


def local_weight(local_hour: np.ndarray | float) -> np.ndarray | float:
    """The diurnal curve: mean 1, trough 05:00, peak 17:00, peak/trough = PEAK_TO_TROUGH."""
    a = (PEAK_TO_TROUGH - 1) / (PEAK_TO_TROUGH + 1)
    return 1 + a * np.cos(2 * np.pi * (np.asarray(local_hour) - 17) / 24)


@dataclass
class Day:
    """The records of the day, in due order: due (real s from start), metro, point, fire."""

    due: np.ndarray
    metro: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    fire: np.ndarray
    sim_hour: np.ndarray  # UTC hour of the simulated day


def make_day(compress: float, share: float, hours: range, rng: np.random.Generator) -> Day:
    """Poisson arrivals per metro and simulated minute, the metro's local curve as the rate."""
    pops = np.array([m[4] for m in METROS])
    daily = CALLS_PER_DAY * share * pops / pops.sum()
    minutes = np.arange(hours.start * 60, hours.stop * 60)
    offsets = np.array([m[3] for m in METROS])
    local = (minutes[None, :] / 60 + offsets[:, None]) % 24
    counts = rng.poisson(daily[:, None] * local_weight(local) / 1440)
    metro = np.repeat(np.repeat(np.arange(len(METROS)), len(minutes)), counts.ravel())
    minute = np.repeat(np.tile(minutes, len(METROS)), counts.ravel())
    sim_s = (minute + rng.random(len(minute))) * 60 - hours.start * 3600
    order = np.argsort(sim_s, kind="stable")
    metro, sim_s = metro[order], sim_s[order]
    lat0 = np.array([m[1] for m in METROS])[metro]
    lon0 = np.array([m[2] for m in METROS])[metro]
    sigma = 12_000 / 111_320  # 12 km around the centre
    lat = lat0 + rng.normal(0, sigma, len(metro))
    lon = lon0 + rng.normal(0, sigma, len(metro)) / np.cos(np.radians(lat0))
    return Day(
        due=sim_s / compress,
        metro=metro,
        lat=lat,
        lon=lon,
        fire=rng.random(len(metro)) < FIRE_SHARE,
        sim_hour=(hours.start + sim_s // 3600).astype(int),
    )


def source(metro: int) -> SourceConfig:
    """The metro's dispatch feed, its own agency."""
    name, tz = METROS[metro][0], {-5: "America/New_York", -6: "America/Chicago"}
    zone = tz.get(
        METROS[metro][3], {-7: "America/Denver"}.get(METROS[metro][3], "America/Los_Angeles")
    )
    return SourceConfig.model_validate(
        {
            "slug": f"n-{name}",
            "name": f"{name} dispatch",
            "kind": "csv",
            "location": "unused.csv",
            "agency": {"slug": f"n-{name}", "name": f"{name} fire", "time_zone": zone},
            "fields": {
                "external_id": "id",
                "call_type": "type",
                "address": "address",
                "latitude": "lat",
                "longitude": "lon",
                "occurred_at": {"column": "epoch_ms", "formats": ["epoch_ms"]},
            },
            "categories": {
                "Structure Fire": "fire.structure",
                "Motor Vehicle Accident": "traffic.collision",
            },
        }
    )


def copy_subscriptions(engine: Engine, n: int, rng: np.random.Generator) -> int:
    """`n` watch areas (res-8 disks placed like the population) copied in; how many cells."""
    pops = np.array([m[4] for m in METROS])
    metro = rng.choice(len(METROS), n, p=pops / pops.sum())
    sigma = 15_000 / 111_320
    lat = np.array([m[1] for m in METROS])[metro] + rng.normal(0, sigma, n)
    lon = np.array([m[2] for m in METROS])[metro] + rng.normal(0, sigma, n) / 0.77
    rings = rng.integers(1, 5, n)
    now = datetime.now(UTC)
    cells = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY alert_subscription (id, manage_token_hash, name, cover_key, categories,"
            " min_severity, urgent_severity, time_zone, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                row = (i + 1, secrets.token_hex(32), "", secrets.token_hex(32), "[]", 1, 4)
                copy.write_row((*row, "UTC", now, now))
        with cursor.copy("COPY alert_cell (subscription_id, cell) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i in range(n):
                centre = h3.latlng_to_cell(float(lat[i]), float(lon[i]), 8)
                for cell in h3.grid_disk(centre, int(rings[i])):
                    copy.write_row((i + 1, h3.str_to_int(cell)))
                    cells += 1
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('alert_subscription', 'id'), {n})")
        raw.commit()
    finally:
        raw.close()
    return cells
