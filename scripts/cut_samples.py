"""Cut the bundled samples from the shared data folder; never needed at run time.

    .venv/bin/python scripts/cut_samples.py [DATA_DIR]   (default: ../shared/data beside the repo)

Seattle: the header and 1,500 rows, each line's bytes unchanged, in file order. Every quirk
row is kept (with a few neighbouring lines where order matters), the rest is filled with
evenly spaced rows. The choice depends only on the input file, so a re-run writes the same
bytes. San Francisco: the whole 1,000-row file, copied.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "townsquare" / "samples"
SEATTLE_DIR = "seattle_fire_911_csv"
SEATTLE_FILE = "Seattle_Real_Time_Fire_911_Calls_MVA_subset_2016export.csv"
SEATTLE_OUT = "seattle_fire_911_calls_extract.csv"
SF_DIR = "sf_fire_dept_calls_for_service"
SF_FILE = "sf-fire-calls.csv"
TARGET_ROWS = 1500
DST_DAYS = {  # America/Los_Angeles transition dates, 2010-2014, as the file writes them
    "03/14/2010",
    "11/07/2010",
    "03/13/2011",
    "11/06/2011",
    "03/11/2012",
    "11/04/2012",
    "03/10/2013",
    "11/03/2013",
    "03/09/2014",
    "11/02/2014",
}
PM_BUG_UNTIL = (2011, 11, 8)  # see the note appended to SOURCE.md
CONTEXT_IDS = ("F110103308", "F110092350", "F110091809", "F110081003", "F130031103")

EXTRACT_NOTE = """

## This extract (Townsquare `samples/seattle_fire_911/`)

The extract holds the header line and {rows:,} of the 13,771 rows above, each line's bytes
unchanged and in the original order (LF endings):
`{out}`.
It was cut by `scripts/cut_samples.py`, which keeps every quirk row: all 25 hour-24 rows
(each with two lines either side) and all 25 rows without coordinates, every row on a DST
transition date, every "12:xx PM" row before 2011-11-08 (the 12-hour clock bug below), all
rows with an empty address, the first row of each address shape (letters and digits
abstracted) and of each Incident Number prefix, every 20th row with an empty Incident
Number, the one exact-duplicate pair without an Incident Number, and the lines around
these incidents (12-hour bug, exact duplicates, one incident under two types or addresses):
{ids}.
Evenly spaced rows fill the rest.

## What the data says about its times (checked by Townsquare)

The note above that "+0000" is misleading does not survive a look at the rows:
- The offset is true: values are UTC. Collisions peak at 22:24 written time in summer and
  23:24 in winter (first harmonic over 2012-2014 rows): a one-hour seasonal shift, which only
  UTC values show (Seattle moves between UTC-7 and UTC-8), and a peak at 15:24 local time.
  Read as local time, the quietest hour would be 11 in the morning. Incident numbers, which
  the department issues in time order, grow slowest at written 10-11 (02-04 local).
- Hour 24 means noon, not the next midnight: each of the 12 hour-24 rows with an Incident
  Number sits, by number, between calls of the same date at 01:53-11:52 and 13:38-20:35
  (e.g. F110057270 "2011-06-26T24:26" between 10:50 and 13:38 of 2011-06-26).
- Until 2011-11-07 the exporter wrote 00:xx as "12:xx PM": no row before 2011-11-12 says
  "12:xx AM", and F110103308 "11/07/2011 12:26:00 PM" falls between 11/06 23:48 and 11/07
  01:01 by number. From 2011-11-12 on, "12 AM" and "12 PM" are used correctly.
The mapping `ingest/mappings/seattle_fire_911.toml` reads the file accordingly.
"""


def main(data: Path) -> None:
    """Write both samples and their SOURCE.md files under src/townsquare/samples."""
    _cut_seattle(data / SEATTLE_DIR)
    _copy_sf(data / SF_DIR)


def _cut_seattle(folder: Path) -> None:
    lines = (folder / SEATTLE_FILE).read_bytes().split(b"\n")
    assert lines[-1] == b"", "expected a final newline"
    header, body = lines[0], lines[1:-1]
    rows = [next(csv.reader([line.decode("utf-8")])) for line in body]
    chosen = _quirk_rows(rows)
    rest = [i for i in range(len(rows)) if i not in chosen]
    needed = TARGET_ROWS - len(chosen)
    assert needed >= 0, f"{len(chosen)} quirk rows exceed the target"
    chosen.update(rest[round(k * len(rest) / needed)] for k in range(needed))
    out = SAMPLES / "seattle_fire_911"
    out.mkdir(parents=True, exist_ok=True)
    kept = [body[i] for i in sorted(chosen)]
    (out / SEATTLE_OUT).write_bytes(b"\n".join([header, *kept, b""]))
    note = EXTRACT_NOTE.format(out=SEATTLE_OUT, rows=len(kept), ids=", ".join(CONTEXT_IDS))
    source = (folder / "SOURCE.md").read_text("utf-8").rstrip("\n") + note
    (out / "SOURCE.md").write_text(source, "utf-8")
    print(f"seattle: {len(kept)} rows, {len(chosen) - needed} of them quirk rows")


def _quirk_rows(rows: list[list[str]]) -> set[int]:
    chosen: set[int] = set()

    def take(test: Callable[[list[str]], bool], around: int = 0, every: int = 1) -> None:
        hits = [i for i, row in enumerate(rows) if test(row)]
        for i in hits[::every]:
            chosen.update(range(max(0, i - around), min(len(rows), i + around + 1)))

    take(lambda r: "T24:" in r[2], around=2)
    take(lambda r: r[3] == "" or r[5] == "(0, 0)")
    take(lambda r: r[2][:10] in DST_DAYS)
    take(_pm_bug_era)
    for incident in CONTEXT_IDS:
        around = 6 if incident == "F110103308" else 1
        take(lambda r, incident=incident: r[6] == incident, around=around)
    take(lambda r: r[0] == "")
    take(lambda r: r[6] == "", every=20)
    empty_id = [tuple(r) for r in rows if r[6] == ""]
    take(lambda r: r[6] == "" and empty_id.count(tuple(r)) > 1)
    chosen.update(_first_of_each(rows, lambda r: _shape(r[0])))
    chosen.update(_first_of_each(rows, lambda r: r[6][:1]))
    return chosen


def _shape(address: str) -> str:
    return re.sub(r"[A-Za-z]+", "x", re.sub(r"\d+", "9", address))


def _pm_bug_era(row: list[str]) -> bool:
    when = row[2]
    if when.startswith(" ") or when[11:13] != "12" or when[20:22] != "PM":
        return False
    return (int(when[6:10]), int(when[0:2]), int(when[3:5])) < PM_BUG_UNTIL


def _first_of_each(rows: list[list[str]], key: Callable[[list[str]], str]) -> list[int]:
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        seen.setdefault(key(row), i)
    return list(seen.values())


def _copy_sf(folder: Path) -> None:
    out = SAMPLES / "sf_fire_calls"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / SF_FILE, out / SF_FILE)
    shutil.copyfile(folder / "SOURCE.md", out / "SOURCE.md")
    print(f"sf: {SF_FILE} copied")


if __name__ == "__main__":
    beside_repo = Path(__file__).resolve().parents[2] / "shared" / "data"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else beside_repo)
