"""Street names as keys: "3rd Avenue Northeast", "3RD AV NE" and "Third Ave NE" are one street.

A key is lower case, directions and street types abbreviated the USPS way, ordinals as digits;
a loose key also drops directions and types, for feeds that leave them out. Addresses are read
into their parts: an intersection ("3RD AVE / PIKE ST", "3rd Ave & Pike St"), a hundred block
("1800 BLOCK OF N VIRGINIA ST") or a house number and street.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

DIRECTIONS = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}
TYPES = {
    "avenue": "ave",
    "av": "ave",
    "avn": "ave",
    "street": "st",
    "str": "st",
    "road": "rd",
    "drive": "dr",
    "boulevard": "blvd",
    "blv": "blvd",
    "place": "pl",
    "court": "ct",
    "lane": "ln",
    "terrace": "ter",
    "terr": "ter",
    "parkway": "pkwy",
    "pky": "pkwy",
    "highway": "hwy",
    "circle": "cir",
    "square": "sq",
    "expressway": "expy",
    "freeway": "fwy",
    "alley": "aly",
    "plaza": "plz",
    "crescent": "cres",
    "loop": "lp",
    "mount": "mt",
    "saint": "st",
    "junior": "jr",
    "way": "way",
    "wy": "way",
}
ORDINALS = {
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
}
ABBREVIATIONS = DIRECTIONS | TYPES | ORDINALS
LOOSE_DROP = frozenset(DIRECTIONS.values()) | frozenset(TYPES.values())
SEPARATOR = re.compile(r"\s*(?:&|/|@|\+|\band\b|\bat\b)\s*", re.IGNORECASE)
BLOCK = re.compile(r"^\s*(\d+)\s+(?:block|blk)\s+(?:of\s+)?(.+)$", re.IGNORECASE)
HOUSE = re.compile(r"^\s*(\d+)[A-Za-z]?(?:-\d+)?\s+(.+)$")
UNIT = re.compile(r"\s*(?:#|\bapt\b|\bunit\b|\bste\b|\bsuite\b).*$", re.IGNORECASE)
ORDINAL_DIGITS = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")


def _ordinal(number: int) -> str:
    """12 → '12th', 3 → '3rd'."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[str, ...]:
    """The words of a name, accents and punctuation dropped, lower case."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return tuple(re.findall(r"[a-z0-9]+", plain.lower().replace("'", "")))


def _token(word: str, position: int, count: int) -> str:
    """One word in its key form; a bare number before a type is an ordinal ("3 Ave")."""
    word = ABBREVIATIONS.get(word, word)
    digits = ORDINAL_DIGITS.match(word)
    if digits and (count > 1 and position < count - 1):
        return _ordinal(int(digits.group(1)))
    return word


PHRASES = (("martin luther king", "m l king"), ("mlk", "m l king"))
"""Names feeds shorten their own way: 'M L King Jr Way S' is 'Martin Luther King Jr Way South'."""


@lru_cache(maxsize=65536)
def street_key(name: str) -> str:
    """The key of a street name: 'Northeast 45th Street' → 'ne 45th st'."""
    words = tokens(name)
    key = " ".join(_token(word, i, len(words)) for i, word in enumerate(words))
    for long, short in PHRASES:
        key = re.sub(rf"\b{long}\b", short, key)
    return key


def loose_key(name: str) -> str:
    """The key without directions and types: 'ne 45th st' → '45th'; never empty."""
    key = street_key(name)
    kept = [word for word in key.split() if word not in LOOSE_DROP]
    return " ".join(kept) or key


def pair_key(first: str, second: str) -> str:
    """One key for an intersection whichever street is named first."""
    return " & ".join(sorted((first, second)))


@dataclass(frozen=True)
class Address:
    """An address read into parts: streets (one, or two at a corner) and a house number."""

    streets: tuple[str, ...]
    number: int | None = None
    block: bool = False


def parse_address(text: str) -> Address | None:
    """Read a dispatch address; None when no street name is left."""
    text = UNIT.sub("", text.strip().strip(","))
    text = re.sub(r",.*$", "", text)  # ", Seattle, WA": the city is the caller's hint
    parts = [part for part in SEPARATOR.split(text) if part.strip()]
    if len(parts) >= 2:
        return Address(streets=(parts[0].strip(), parts[1].strip()))
    if not parts:
        return None
    block = BLOCK.match(parts[0])
    if block:
        return Address(streets=(block.group(2).strip(),), number=int(block.group(1)), block=True)
    house = HOUSE.match(parts[0])
    if house and tokens(house.group(2)):
        return Address(streets=(house.group(2).strip(),), number=int(house.group(1)))
    return Address(streets=(parts[0].strip(),)) if tokens(parts[0]) else None


def search_terms(query: str) -> list[str]:
    """The words of a free-text query in key form, separators and filler dropped."""
    words = tokens(SEPARATOR.sub(" ", query))
    keyed = [_token(word, i, len(words)) for i, word in enumerate(words)]
    return [word for word in keyed if word not in {"block", "of", "blk"}]
