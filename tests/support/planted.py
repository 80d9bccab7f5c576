"""Personal data planted in every shape real dispatch exports and residents use, with a ledger.

Each planted value is unique to one (kind, field, shape) occurrence: names are invented
three-syllable words no real text contains ("Zorvekqua"), phone numbers unique 7-digit
runs, e-mails, unit numbers (a digit run and a rare letter) unique too. So a value found in
anything the platform shows names exactly where it was planted and in which shape, and a
failure says which shape leaks through which field. `leaks.py` looks for them.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from townsquare.ingest.config import MAPPINGS_DIR

SAMPLES = MAPPINGS_DIR.parent.parent / "samples"
SYLLABLES = (
    *("zor", "vek", "qua", "thix", "mub", "kel", "dra", "yun", "pex", "wol", "brin", "gaz"),
    *("fru", "jiv", "snok", "tral", "cav", "hem", "lop", "nuz", "rix", "sav", "tob", "ulk"),
    *("vim", "wex", "yab", "zid", "oxa", "ibb", "quo", "fex", "grum", "plo", "dux"),
)
TOKEN_TYPES = ("names", "phones", "emails", "units", "houses", "dobs", "plates")
MARKERS = (
    *("RP", "R/P", "RP:", "caller", "Caller:", "complainant", "victim", "witness", "suspect"),
    *("reporting party", "victim named", "suspect named", "patient", "driver", "subject"),
    *("caller name:", "witness is", "RP is"),
)
ABBREVIATED = (  # how dispatchers shorten role words, and other words a name follows
    *("COMP", "SUSP", "VICT", "WIT", "PT", "R/O", "comp:", "susp", "vict", "wit"),
    *("reported by", "contact", "parent", "owner", "neighbor"),
)
STREETS = (
    *("California Ave SW", "PINE ST", "Rainier Ave S", "Aurora Av N", "NE 45th St"),
    *("3RD AVE", "Delridge Way SW", "MISSION ST", "Market St", "15th Ave NW"),
)
CROSS = ("Pike St", "N 85TH ST", "Alaska St", "VALENCIA ST")
UNIT_WORDS = ("APT", "Apt", "UNIT", "#", "STE", "Apt.", "Unit", "RM")
EXCHANGES = ("555", "867", "734", "389", "948", "473", "586", "397")
"""Exchanges no date, time, case number or id the platform shows can spell out as digits
("2026-12-07" gives 202, 026, 261, 612, 120), so a planted number is never found by chance."""
PHONE_SHAPES = (
    "555 range dashes",
    "parenthesised area",
    "dots",
    "ten digits no separators",
    "split by spaces",
    "+1 spaces",
    "+1 dashes",
    "+1 parenthesised",
    "1- prefix",
    "seven digits",
    "seven digits split by a space",
    "extension x",
    "extension ext.",
    "extension split by spaces",
)


@dataclass(frozen=True)
class Origin:
    """Where one value was planted: kind, field, shape, the whole planted text, and each role
    marker with the case and the number of words of the name after it ("victim|lower|2",
    "-" when the last two words are hyphenated)."""

    kind: str
    field: str
    shape: str
    text: str
    variants: tuple[str, ...] = ()


@dataclass
class Ledger:
    """Every planted value by type, and how many values each (kind, field) received."""

    seed: int = 20261207
    tokens: dict[str, dict[str, Origin]] = field(default_factory=dict)
    planted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(kind, field, token type) -> how many values were planted."""
    texts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, field) -> how many planted texts."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.tokens = {kind: {} for kind in TOKEN_TYPES}
        self._words = self._invented(random.Random(self.seed))
        self._numbers = iter(random.Random(self.seed + 1).sample(range(10_000_000), 200_000))
        self._pending: list[tuple[str, str]] = []
        self._variants: list[str] = []
        self.round = 0

    @staticmethod
    def _invented(rng: random.Random) -> Iterator[str]:
        """Distinct invented words of three or four syllables."""
        seen: set[str] = set()
        while True:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((3, 4))))
            if word not in seen:
                seen.add(word)
                yield word

    # -- values ---------------------------------------------------------------------------

    def _record(self, kind: str, where: tuple[str, str, str], value: str) -> str:
        self.planted[(where[0], where[1], kind)] += 1
        self._pending.append((kind, value.lower()))
        return value

    def name(self, where: tuple[str, str, str], case: str, parts: int, hyphen: bool) -> str:
        """An invented name of `parts` words (the last two hyphenated if asked) in `case`."""
        words = [next(self._words) for _ in range(parts)]
        for word in words:
            self._record("names", where, word)
        if hyphen and parts > 1:
            words = [*words[:-2], "-".join(words[-2:])]
        text = " ".join(words)
        return {"upper": text.upper(), "lower": text.lower()}.get(case, _title(text))

    def phone(self, where: tuple[str, str, str], shape: str) -> str:
        """A phone number in `shape`; its 7-digit and 10-digit runs are recorded."""
        seven = ""
        while not seven or seven in self.tokens["phones"] or seven in self._pending_phones():
            number = f"{next(self._numbers):07d}"
            exchange = "555" if shape.startswith("555") else EXCHANGES[int(number[:3]) % 8]
            seven = exchange + number[3:]
        area = self.rng.choice(["206", "425", "253", "360", "509", "415"])
        self._record("phones", where, seven)
        if not shape.startswith("seven"):  # the 10-digit run too, counted as the same number
            self._pending.append(("phones", area + seven))
        ext = str(self.rng.randint(1, 9999))
        a, e, n = area, seven[:3], seven[3:]
        return {
            "555 range dashes": f"{a}-{e}-{n}",
            "parenthesised area": f"({a}) {e}-{n}",
            "dots": f"{a}.{e}.{n}",
            "ten digits no separators": f"{a}{e}{n}",
            "split by spaces": f"{a} {e} {n}",
            "+1 spaces": f"+1 {a} {e} {n}",
            "+1 dashes": f"+1-{a}-{e}-{n}",
            "+1 parenthesised": f"+1 ({a}) {e}-{n}",
            "1- prefix": f"1-{a}-{e}-{n}",
            "seven digits": f"{e}-{n}",
            "seven digits split by a space": f"{e} {n}",
            "extension x": f"({a}) {e}-{n} x{ext}",
            "extension ext.": f"{a}-{e}-{n} ext. {ext}",
            "extension split by spaces": f"({a}) {e} {n} x {ext}",
        }[shape]

    def email(self, where: tuple[str, str, str]) -> str:
        """A unique e-mail address."""
        return self._record("emails", where, f"{next(self._words)}.{where[0]}@planted-pii.example")

    def unit(self, where: tuple[str, str, str]) -> str:
        """A unique unit number: digits and a letter no real unit in the samples uses."""
        value = f"{self.rng.randint(100, 9999)}{self.rng.choice('JQX')}"
        while value.lower() in self.tokens["units"]:
            value = f"{self.rng.randint(100, 9999)}{self.rng.choice('JQX')}"
        return self._record("units", where, value)

    def house(self, where: tuple[str, str, str], street: str) -> str:
        """An exact house number (never a whole hundred) on `street`."""
        number = self.rng.randrange(101, 20_000)
        while number % 100 == 0:
            number = self.rng.randrange(101, 20_000)
        self._record("houses", where, f"{number} {street.split()[0].lower()}")
        return str(number)

    def dob(self, where: tuple[str, str, str]) -> str:
        """A date of birth."""
        rng = self.rng
        value = f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1940, 2010)}"
        return self._record("dobs", where, value)

    def plate(self, where: tuple[str, str, str]) -> str:
        """A licence plate of three rare letters and four digits."""
        letters = "".join(self.rng.choice("QXZ") for _ in range(3))
        return self._record("plates", where, f"{letters}{self.rng.randint(1000, 9999)}")

    def _pending_phones(self) -> set[str]:
        return {value for kind, value in self._pending if kind == "phones"}

    # -- texts ----------------------------------------------------------------------------

    def text(self, kind: str, fieldname: str, index: int) -> str:
        """The planted text of row `index` for one field: its shape is chosen by the index."""
        makers = {
            "address": ADDRESS_SHAPES,
            "call_type": CALL_TYPE_SHAPES,
            "unit": UNIT_SHAPES,
            "street": STREET_SHAPES,
        }.get(fieldname, FREE_TEXT_SHAPES)
        shape = list(makers)[index % len(makers)]
        self.round = index // len(makers)  # texts of this shape before: markers cycle on it
        where = (kind, fieldname, shape)
        self._pending = []
        self._variants: list[str] = []
        text = makers[shape](self, where, index)
        origin = Origin(kind, fieldname, shape, text, tuple(self._variants))
        for token_type, value in self._pending:
            self.tokens[token_type][value] = origin
        self.texts[(kind, fieldname)] += 1
        return text

    def marked_name(
        self,
        where: tuple[str, str, str],
        index: int,
        most: int = 4,
        markers: tuple[str, ...] = MARKERS,
    ) -> str:
        """A role marker and a name of up to `most` words after it, in a case and a length
        chosen by the index."""
        marker = markers[index % len(markers)]
        case = ("upper", "lower", "title")[index // len(markers) % 3]
        parts = 1 + index // 7 % most
        hyphen = parts > 1 and index // 5 % 3 == 0
        name = self.name(where, case, parts, hyphen)
        self._variants.append(f"{marker}|{case}|{parts}{'-' if hyphen else ''}")
        return f"{marker.lower() if case == 'lower' else marker} {name}"

    def any_phone(self, where: tuple[str, str, str], index: int) -> str:
        """A phone number in the shape of index."""
        return self.phone(where, PHONE_SHAPES[index % len(PHONE_SHAPES)])


def _title(text: str) -> str:
    return " ".join("-".join(p.capitalize() for p in w.split("-")) for w in text.split())


def _street(ledger: Ledger, index: int) -> str:
    return STREETS[index % len(STREETS)]


def _at(ledger: Ledger, where: tuple[str, str, str], index: int) -> str:
    street = _street(ledger, index)
    return f"{ledger.house(where, street)} {street}"


W = tuple[str, str, str]
ADDRESS_SHAPES = {
    "trailing CALLBACK phone": lambda p, w, i: f"{_at(p, w, i)} CALLBACK {p.any_phone(w, p.round)}",
    "unit, RP name, 10 digits": lambda p, w, i: (
        f"{_at(p, w, i)} APT {p.unit(w)} RP {p.name(w, 'upper', 2, False)} "
        f"{p.phone(w, 'ten digits no separators')}"
    ),
    "CB phone with extension": lambda p, w, i: (
        f"{_at(p, w, i)} CB {p.phone(w, 'extension split by spaces')}"
    ),
    "unit word and number": lambda p, w, i: (
        f"{_at(p, w, i)} {UNIT_WORDS[i % len(UNIT_WORDS)]} {p.unit(w)}"
    ),
    "unit, marked name, e-mail": lambda p, w, i: (
        f"{_at(p, w, i)} UNIT {p.unit(w)} - {p.marked_name(w, p.round)} {p.email(w)}"
    ),
    "note after semicolon": lambda p, w, i: (
        f"{_at(p, w, i)}; NOTE: {p.marked_name(w, p.round)}, {p.any_phone(w, p.round)}"
    ),
    "note after slash": lambda p, w, i: f"{_at(p, w, i)} / {p.marked_name(w, p.round)}",
    "intersection with callback": lambda p, w, i: (
        f"{_street(p, i)} / {CROSS[i % len(CROSS)]} CALLBACK {p.any_phone(w, p.round)}"
    ),
    "note in brackets": lambda p, w, i: (
        f"{_at(p, w, i)} ({p.marked_name(w, p.round)} {p.any_phone(w, p.round)})"
    ),
    "abbreviated marker after the street": lambda p, w, i: (
        f"{_at(p, w, i)} {p.marked_name(w, p.round, markers=ABBREVIATED)}"
    ),
    "lower-case name and phone after the street": lambda p, w, i: (
        f"{_at(p, w, i)} {p.name(w, 'lower', 2, False)} {p.phone(w, 'split by spaces')}"
    ),
}
CALL_TYPE_SHAPES = {
    "marked name and phone": lambda p, w, i: (
        f"Assist - {p.marked_name(w, p.round)} {p.any_phone(w, p.round)}"
    ),
    "callback phone": lambda p, w, i: f"Aid Response CB {p.any_phone(w, p.round)}",
    "e-mail": lambda p, w, i: f"Hazard reported by {p.email(w)}",
    "victim named": lambda p, w, i: (
        f"Assault, victim named {p.name(w, ('title', 'lower', 'upper')[i % 3], 3, True)}"
    ),
    "suspect named, DOB": lambda p, w, i: (
        f"Suspicious person, suspect named {p.name(w, 'title', 2, i % 2 == 0)}, DOB {p.dob(w)}"
    ),
    "abbreviated marker": lambda p, w, i: (
        f"Disturbance - {p.marked_name(w, p.round, markers=ABBREVIATED)} {p.any_phone(w, p.round)}"
    ),
    "driver, plate": lambda p, w, i: f"Collision, {p.marked_name(w, p.round)} plate {p.plate(w)}",
}
UNIT_SHAPES = {
    # A unit column holds an apparatus id: short (the store keeps at most 64 characters).
    "unit and marked name": lambda p, w, i: f"E{i % 40} {p.marked_name(w, p.round, most=2)}",
    "unit and callback": lambda p, w, i: f"M{i % 40} CB {p.any_phone(w, p.round)}",
}
STREET_SHAPES = {  # an EIDO civic street: whatever follows is inside the RD element
    "street and callback": lambda p, w, i: f"{_street(p, i)} CALLBACK {p.any_phone(w, p.round)}",
    "street and marked name": lambda p, w, i: f"{_street(p, i)} {p.marked_name(w, p.round)}",
    "street, unit": lambda p, w, i: f"{_street(p, i)} APT {p.unit(w)}",
}
FREE_TEXT_SHAPES = {
    "marked name then verb": lambda p, w, i: (
        f"Smoke seen; {p.marked_name(w, p.round)} reports it from the corner."
    ),
    "phone to call": lambda p, w, i: (
        f"Anyone who saw it, call {p.any_phone(w, p.round)} or write to {p.email(w)}."
    ),
    "victim named, hyphenated": lambda p, w, i: (
        f"The victim named {p.name(w, 'title', 3, True)} was not hurt."
    ),
    "lower-case marked name and phone": lambda p, w, i: (
        f"{p.marked_name(w, p.round + 1)} left a number {p.any_phone(w, p.round)}."
    ),
    "abbreviated marker": lambda p, w, i: (
        f"{p.marked_name(w, p.round, markers=ABBREVIATED)} saw it happen."
    ),
    "witness with unit": lambda p, w, i: (
        f"A witness, {p.name(w, 'title', 2, False)}, lives on {_street(p, i)} "
        f"{UNIT_WORDS[i % len(UNIT_WORDS)]} {p.unit(w)}."
    ),
}


def real_rows() -> list[dict[str, str]]:
    """The bundled Seattle and San Francisco sample rows: call type, address, point."""
    rows = []
    seattle = SAMPLES / "seattle_fire_911" / "seattle_fire_911_calls_extract.csv"
    with seattle.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "type": row["Type"],
                    "address": row["Address"],
                    "lat": row["Latitude"],
                    "lon": row["Longitude"],
                }
            )
    with (SAMPLES / "sf_fire_calls" / "sf-fire-calls.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            lat, lon = re.findall(r"-?\d+\.\d+", row["Location"])
            rows.append(
                {"type": row["CallType"], "address": row["Address"], "lat": lat, "lon": lon}
            )
    return [r for r in rows if r["lat"] and r["lon"]]
