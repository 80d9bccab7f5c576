"""The geofence match as one compiled loop (numba): the cell lookups, the inside runs and the
edge test fused, with no temporary array per step.

At a million watch areas a point in a busy district is inside ~10,000 of them and near the
edge of ~40,000 more; numpy needs a gather, a product and three masks over those, each a pass
through memory, where one loop reads every candidate once. `GeofenceIndex.match_ids` calls
it; `GeofenceIndex.match_ids_numpy` keeps the array form as the reference the tests compare.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def match_table(
    cells: Any,
    inside_at: Any,
    inside: Any,
    edge_at: Any,
    edge: Any,
    wanted: Any,
    params: Any,
    ids: Any,
    alive: Any,
    point: Any,
    unsure_cos: float,
) -> tuple[Any, Any]:
    """Ids of the areas holding the point, and the slots too close to call (or polygons)."""
    found = np.searchsorted(cells, wanted)
    total = 0
    for k in range(len(wanted)):
        at = found[k]
        if at < len(cells) and cells[at] == wanted[k]:
            total += inside_at[at + 1] - inside_at[at] + edge_at[at + 1] - edge_at[at]
    out = np.empty(total, np.int64)
    unsure = np.empty(total, np.int32)
    n = m = 0
    x, y, z = point[0], point[1], point[2]
    for k in range(len(wanted)):
        at = found[k]
        if at >= len(cells) or cells[at] != wanted[k]:
            continue
        for j in range(inside_at[at], inside_at[at + 1]):
            slot = inside[j]
            if alive[slot]:
                out[n] = ids[slot]
                n += 1
        for j in range(edge_at[at], edge_at[at + 1]):
            slot = edge[j]
            if not alive[slot]:
                continue
            gap = params[slot, 0] * x + params[slot, 1] * y + params[slot, 2] * z - params[slot, 3]
            if gap > unsure_cos:
                out[n] = ids[slot]
                n += 1
            elif not gap < -unsure_cos:  # NaN (polygons) too
                unsure[m] = slot
                m += 1
    return out[:n], unsure[:m]
