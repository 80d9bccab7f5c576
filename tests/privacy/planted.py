"""A generator of dispatch rows mixing the real bundled samples with planted personal data.

Every planted value is recorded, so a test can look for each one in everything the
platform shows. Planted names use rare words that no real sample row contains.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from townsquare.ingest.config import MAPPINGS_DIR, load_source_config

SAMPLES = MAPPINGS_DIR.parent.parent / "samples"
FIRST = ["Zebulon", "Philippa", "Thaddeus", "Ottoline", "Barnaby", "Henrietta", "Ignatius"]
LAST = ["Quackenbush", "Vandersloot", "Pettigrew", "Ravenscroft", "Winterbottom", "Oglethorpe"]
STREETS = ["Phinney Av N", "Aurora Av N", "Rainier Av S", "Delridge Way SW", "CALIFORNIA ST"]
EXTRA_COLUMNS = ["Caller Name", "Caller Phone", "Caller Email", "DOB", "Narrative"]
COLUMNS = ["Incident Number", "Type", "Datetime", "Address", "Latitude", "Longitude"]
PUBLIC_TEXT = {
    # template of a call type carrying free text -> the public category it is mapped to
    "Assist - caller {name} {phone}": "assist",
    "Hazard reported by {email}": "safety.hazard",
    "Vehicle blocking, plate {plate}": "traffic.hazard",
    "Vandalism, case #{case}": "crime.vandalism",
    "Suspicious person, DOB {dob}, RP {name}": "police.other",
    "Collision, driver {name} {phone}": "traffic.collision",
}
SENSITIVE = {
    "Sexual Assault": "sensitive.sexual_assault",
    "Domestic Violence": "sensitive.domestic",
    "Juvenile Disturbance": "sensitive.juvenile",
    "Suicide Attempt": "sensitive.mental_health",
    "Death Investigation": "sensitive.death",
    "Medical Aid at Residence": "medical",
    "Welfare Check": "welfare",
    # mapping mistakes: the call type words of the policy must still withhold them
    "DV Assault": "crime.assault",
    "Psych Patient": "civil",
    "Overdose": "assist",
}


@dataclass
class Planted:
    """The rows, the categories to map them, and every planted value by kind."""

    rows: list[dict[str, str]] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    dobs: set[str] = field(default_factory=set)
    plates: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    houses: set[tuple[str, str]] = field(default_factory=set)
    sensitive_ids: set[str] = field(default_factory=set)


def _real_rows() -> list[dict[str, str]]:
    rows = []
    seattle = SAMPLES / "seattle_fire_911" / "seattle_fire_911_calls_extract.csv"
    with seattle.open(encoding="utf-8-sig", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            rows.append(
                {
                    "Incident Number": f"S{n:05d}",
                    "Type": row["Type"],
                    "Address": row["Address"],
                    "Latitude": row["Latitude"],
                    "Longitude": row["Longitude"],
                }
            )
    with (SAMPLES / "sf_fire_calls" / "sf-fire-calls.csv").open(encoding="utf-8-sig") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            lat, lon = re.findall(r"-?\d+\.\d+", row["Location"])
            rows.append(
                {
                    "Incident Number": f"F{n:05d}",
                    "Type": row["CallType"],
                    "Address": row["Address"],
                    "Latitude": lat,
                    "Longitude": lon,
                }
            )
    return rows


def _phone(rng: random.Random, digits: str) -> str:
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return rng.choice(
        [
            f"({area}) {exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"+1 {area} {exchange} {line}",
            f"{area}{exchange}{line}",
            f"{area}-{exchange}-{line}",
        ]
    )


def _values(rng: random.Random, planted: Planted, n: int) -> dict[str, str]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    digits = f"{rng.choice(['206', '425', '253'])}555{n % 10_000:04d}"
    values = {
        "name": name,
        "phone": _phone(rng, digits),
        "email": f"{name.split()[0].lower()}.{n}@planted-pii.example",
        "dob": f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1940, 2010)}",
        "plate": "".join(rng.choice(c) for c in ("QXZ", "QXZ", "KJW"))
        + str(rng.randint(1000, 9999)),
        "case": f"2026-{n:07d}",
    }
    planted.names.update(name.split())
    planted.phones.add(digits)
    planted.emails.add(values["email"])
    planted.dobs.add(values["dob"])
    planted.plates.add(values["plate"])
    planted.cases.add(values["case"])
    return values


def _exact_address(rng: random.Random, planted: Planted) -> str:
    house = rng.randrange(101, 20_000)
    while house % 100 == 0:
        house = rng.randrange(101, 20_000)
    street = rng.choice(STREETS)
    unit = f"{rng.randint(100, 9999)}{rng.choice('ABCD')}"
    planted.houses.add((str(house), street.split()[0].lower()))
    planted.units.add(unit)
    return f"{house} {street} {rng.choice(['Apt', 'Unit', '#'])} {unit}"


def generate(total: int, now: datetime, seed: int = 20261128) -> Planted:
    """`total` rows: every real sample row, then real rows altered to carry planted data."""
    rng = random.Random(seed)
    planted = Planted()
    for path in ("seattle_fire_911.toml", "sf_fire_calls.toml"):
        planted.categories.update(load_source_config(MAPPINGS_DIR / path).categories)
    planted.categories.update(SENSITIVE)
    real = _real_rows()
    rows = list(real)
    while len(rows) < total:
        n = len(rows)
        row = dict(rng.choice(real), **{"Incident Number": f"P{n:06d}"})
        values = _values(rng, planted, n)
        kind = n % 3
        if kind == 0:
            template = rng.choice(list(PUBLIC_TEXT))
            row["Type"] = template.format(**values)
            planted.categories[row["Type"]] = PUBLIC_TEXT[template]
        elif kind == 1:
            row["Type"] = rng.choice(list(SENSITIVE))
            planted.sensitive_ids.add(row["Incident Number"])
        row["Address"] = _exact_address(rng, planted)
        row.update(
            {
                "Caller Name": values["name"],
                "Caller Phone": values["phone"],
                "Caller Email": values["email"],
                "DOB": values["dob"],
                "Narrative": f"RP {values['name']} at {row['Address']}, plate {values['plate']}",
            }
        )
        rows.append(row)
    for row in rows:
        minutes = rng.randrange(0, 3 * 24 * 60)
        row["Datetime"] = (now - timedelta(minutes=minutes)).isoformat()
    planted.rows = rows
    return planted


def write(folder: Path, planted: Planted) -> Path:
    """The CSV of the rows (unmapped columns included) in `folder`."""
    path = folder / "planted.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS + EXTRA_COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(planted.rows)
    return path
