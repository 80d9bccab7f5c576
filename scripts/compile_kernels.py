"""Compile the numba loops once at install time, into their on-disk cache.

The feed index's merge and the geofence match are compiled on first use (some 15 s on a
2-core machine); done here, the first `make run` and each test worker load them instead.
"""

from __future__ import annotations

import time

from townsquare.alerts.index import CircleArea, GeofenceIndex
from townsquare.incidents.index import FeedIndex, IndexItem


def main() -> None:
    """Run each kernel once on a one-item index."""
    start = time.perf_counter()
    feed = FeedIndex.build([IndexItem(1, 47.6, -122.3, 0.0, "fire")])
    feed.query(47.6, -122.3, 2000.0, 50)
    feed.query_bbox(-123.0, 47.0, -122.0, 48.0, 50)
    fence = GeofenceIndex.build([(1, CircleArea(47.6, -122.3, 1000.0), None)])
    fence.match(47.6, -122.3)
    print(f"compile_kernels: ready in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
