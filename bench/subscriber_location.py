"""How far a stored watch-area cover locates its subscriber (issue 13, item 6).

The server keeps only the H3 cells of a watch area (`townsquare.alerts.cells`), never its
centre or radius. This measures what the cells still give away: for random circles in Seattle
(radius 200 m to 5 km, log-uniform), the distance between the true centre and the best guess
from the cells alone (their area-weighted centroid), in metres and as a share of the radius.
It also prints what the same cover costs in matching: the share of the circle the cover misses
and the share of the cover outside the circle (sampled points), and the cells stored per area.
Both are printed for the shipped cell size (edge <= radius / 8) and for coarser ones, to show
the trade-off: coarser cells hide the centre a little better and match the area worse.

Run: `.venv/bin/python bench/subscriber_location.py [--n 500] [--seed 13]`.
"""

from __future__ import annotations

import argparse
import math
import random

from townsquare import geo
from townsquare.alerts import cells

SEATTLE = (47.50, 47.73, -122.44, -122.24)  # south, north, west, east
SAMPLES = 200


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point `north_m` and `east_m` metres away (flat, fine at these distances)."""
    return (
        lat + north_m / 111_320.0,
        lon + east_m / (111_320.0 * math.cos(math.radians(lat))),
    )


def run(n: int, seed: int, per_radius: float) -> dict[str, list[float]]:
    """Measures of `n` random circles at cell edge <= radius / `per_radius`."""
    cells.CELLS_PER_RADIUS = per_radius
    rng = random.Random(seed)
    out: dict[str, list[float]] = {"error_m": [], "error_share": [], "missed": [], "extra": []}
    out["cells"] = []
    south, north, west, east = SEATTLE
    for _ in range(n):
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        radius = math.exp(rng.uniform(math.log(200), math.log(5000)))
        found = cells.circle_cells(lat, lon, radius)
        guess_lat, guess_lon, _ = cells.centroid(found)
        error = geo.haversine_m(lat, lon, guess_lat, guess_lon)
        out["error_m"].append(error)
        out["error_share"].append(error / radius)
        out["cells"].append(float(len(found)))
        area = cells.cell_area(found)
        inside = covered = missed = extra = 0
        for _ in range(SAMPLES):
            p = offset(lat, lon, rng.uniform(-1.5, 1.5) * radius, rng.uniform(-1.5, 1.5) * radius)
            in_circle = geo.haversine_m(lat, lon, *p) <= radius
            in_cover = area.contains(*p)
            inside += in_circle
            covered += in_cover
            missed += in_circle and not in_cover
            extra += in_cover and not in_circle
        out["missed"].append(missed / max(inside, 1))
        out["extra"].append(extra / max(covered, 1))
    return out


def main() -> None:
    """Print the figures for the shipped cell size and two coarser ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="random circles per setting")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    shipped = cells.CELLS_PER_RADIUS
    print(f"{args.n} random circles in Seattle, radius 200 m to 5 km (log-uniform)")
    print(
        f"{'edge <=':>12} {'centre found within (m) p50/p95/max':>36} "
        f"{'as share of radius p50/p95/max':>32} {'cells p50':>9} "
        f"{'circle missed p50/p95':>22} {'cover outside p50/p95':>22}"
    )
    for per_radius in (shipped, 4.0, 2.0):
        got = run(args.n, args.seed, per_radius)
        error, share = got["error_m"], got["error_share"]
        label = f"radius/{per_radius:g}" + (" *" if per_radius == shipped else "")
        print(
            f"{label:>12} "
            f"{percentile(error, 0.5):>14.0f} {percentile(error, 0.95):>10.0f} "
            f"{max(error):>10.0f} "
            f"{percentile(share, 0.5):>12.1%} {percentile(share, 0.95):>9.1%} "
            f"{max(share):>9.1%} {percentile(got['cells'], 0.5):>9.0f} "
            f"{percentile(got['missed'], 0.5):>11.1%} {percentile(got['missed'], 0.95):>10.1%} "
            f"{percentile(got['extra'], 0.5):>11.1%} {percentile(got['extra'], 0.95):>10.1%}"
        )
    cells.CELLS_PER_RADIUS = shipped
    print("* shipped. The centre of a circle is not necessarily the subscriber's home; these")
    print("  figures say how far the stored cells alone locate the centre a subscriber chose.")


if __name__ == "__main__":
    main()
