"""The numba loop compiled before the first request, not during it.

The feed index's merge (`incidents.feedkernel`) is compiled on first use and cached on disk
beside its module: some 15 s on a 2-core machine the first time after an install or upgrade,
under a second after. The server runs it once at start, before it answers, so no request
waits for the compiler (`make install` does too).
"""

from __future__ import annotations

import logging
import time

from townsquare.incidents.index import FeedIndex, IndexItem

log = logging.getLogger(__name__)


def warm() -> float:
    """Run the compiled loop once on a one-item index; the seconds it took."""
    start = time.perf_counter()
    feed = FeedIndex.build([IndexItem(1, 47.6, -122.3, 0.0, "fire")])
    feed.query(47.6, -122.3, 2000.0, 50)
    feed.query_bbox(-123.0, 47.0, -122.0, 48.0, 50)
    took = time.perf_counter() - start
    if took > 1.0:
        log.info("compiled the feed index loop", extra={"seconds": round(took, 1)})
    return took
