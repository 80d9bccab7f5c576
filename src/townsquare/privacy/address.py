"""Public forms of addresses: hundred blocks or intersections, no unit numbers, no boxes.

`address_block` never returns a house number: a number in house-number position becomes the
block ("1234 Pine St" -> "1200 block of Pine St"), grid numbers too ("N1234 County Rd K" ->
"N1200 block of County Rd K"); intersections ("/", "&", "@", "and") and freeway locations
("NB I5 At Spring") are kept; apartment, unit, suite and box designators are dropped (a
rural-route box number names one household: "RR 2 Box 45" -> "RR 2"). Numbers that name a
road, an exit or a mile marker stay ("FM 1960 Rd", "Exit 127A", "I-90 MM 34"), as do grid
street names ("S 500 E"). Output is in one normal form whatever the input's case or
separators. Addresses are read number-first (North American order); a number ending a part
is an exit or street ("SB I5 At 50").
"""

from __future__ import annotations

import re
from functools import lru_cache

_SEPARATORS = re.compile(r"\s*(?:/|&|\s@\s)\s*|\s+and\s+", re.IGNORECASE)
_LABEL = re.compile(r"^[^\W\d_][^\W\d_ ]*(?: [^\W\d_]+){0,2}\s*:\s*")  # "CALL BOX: ..."
_UNIT = re.compile(
    r"(?:,\s*)?(?:#\s*|\b(?:apt|apartment|unit|ste|suite|bldg|building|rm|room|spc|space|lot|"
    r"fl|floor|(?:p\.?\s?o\.?\s*)?box)\b\.?\s*#?\s*)(?:[\w-]*\d[\w-]*|[^\W\d_]\b)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"\b(\d+)\s*-\s*\d+\b(?=\s+\w)")  # "4400 - 4499 Delridge Way"
_BLOCK_OF = re.compile(r"^(\d+)\s+block\s+of\s+", re.IGNORECASE)
_HOUSE = re.compile(r"^(\d+)(?:-?[^\W\d_])?\s+")  # "1234 Pine", "1234B Pine"; not "12th"
_GRID = re.compile(r"^([NSEW])(\d{3,})\s+", re.IGNORECASE)  # Wisconsin-style "N1234 Cty Rd K"
_BLOCK_OF_REST = re.compile(r"^block\s+of\s+", re.IGNORECASE)
_COMMA = re.compile(r"\s*,\s*")
_HOUSE_TOKEN = re.compile(r"^(\d+)(?:-?[^\W\d_])?$")  # "1234", "1234B"; not "12th"
_ANY_BLOCK = re.compile(r"(\d+)(\s+block\b)", re.IGNORECASE)

_BOUND = {"NB", "SB", "EB", "WB", "IB", "OB"}
_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}
_UPPER = _BOUND | _DIRECTIONS | {"SF", "SFO", "US", "CD", "FM", "SH", "IH", "RR", "HC", "MM"}
_STREET_TYPES = {
    *("av", "ave", "avenue", "st", "street", "rd", "road", "dr", "drive", "way", "wy"),
    *("pl", "place", "blvd", "boulevard", "ln", "lane", "ct", "court", "ter", "terrace"),
    *("pkwy", "hwy", "highway", "cir", "circle", "br", "bridge", "expy", "frwy", "fwy"),
    *("trl", "loop"),
}
_CONNECTORS = {"at", "to", "fr", "from"}  # freeway descriptions: "SB I5 At 1 Av S"
_ROUTE_WORDS = {
    # a number after these names a road, an exit or a marker, not a house
    *("i", "ih", "sr", "us", "fm", "rm", "sh", "cr", "hwy", "highway", "route", "rte", "rt"),
    *("rr", "hc", "exit", "mm", "mp", "marker", "mile", "bw", "spur", "loop", "interstate"),
    *("county", "state", "road"),
}
_HIGHWAY = re.compile(r"^(?:I|SR|US|HWY)-?\d+[A-Z]?$", re.IGNORECASE)
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


@lru_cache(maxsize=16_384)
def address_block(address: str | None, block_size: int = 100) -> str | None:
    """The public form of an address: block or intersection, None if nothing is left."""
    if address is None:
        return None
    if block_size < 100 or block_size % 100:
        raise ValueError(f"block size {block_size} is not a multiple of 100")
    parts = [_part(p, block_size) for p in _SEPARATORS.split(" ".join(address.split()))]
    kept = [p for p in parts if p]
    if not kept:
        return None
    text = " / ".join(kept)
    # Last guard: whatever the input, no "<n> block" with n not a whole block survives.
    return _ANY_BLOCK.sub(lambda m: f"{_block(m[1], block_size)}{m[2]}", text)


def _part(text: str, size: int) -> str:
    text = _LABEL.sub("", text)
    text = " ".join(_UNIT.sub(" ", text).split()).strip(" ,-")
    text = _RANGE.sub(r"\1", _COMMA.sub(", ", text))
    block, rest = _leading_number(text, size)
    words = _mid_numbers(rest.split(), size)
    if not words or all(w.isdecimal() for w in words):
        return ""  # a bare number ("5/130") says nothing public
    rest = _case(" ".join(words))
    return f"{block} block of {rest}" if block is not None else rest


def _leading_number(text: str, size: int) -> tuple[str | None, str]:
    """A house number at the start, cut to its block; placeholder prefixes dropped."""
    grid = _GRID.match(text)
    if grid is not None:
        rest = _BLOCK_OF_REST.sub("", text[grid.end() :], count=1)
        return f"{grid[1].upper()}{_block(grid[2], size)}", rest
    for pattern in (_BLOCK_OF, _HOUSE):
        match = pattern.match(text)
        if match is None:
            continue
        rest = text[match.end() :]
        first = rest.split(maxsplit=1)[0] if rest else ""
        if first.upper() in _BOUND or _HIGHWAY.match(first):
            return None, rest  # "0 - 0 Sb I5 At Northgate": a placeholder, not an address
        return str(_block(match[1], size)), rest
    return None, text


def _mid_numbers(words: list[str], size: int) -> list[str]:
    """Numbers inside a part: road, exit and street numbers stay, house numbers become blocks."""
    out: list[str] = []
    for index, word in enumerate(words):
        house = _HOUSE_TOKEN.match(word)
        before = words[index - 1] if index else None
        after = words[index + 1] if index + 1 < len(words) else None
        last_but_one = index + 2 == len(words)
        if house is None or after is None or _kept_number(before, after, last_but_one):
            out.append(word)
        else:
            out.extend([str(_block(house[1], size)), "block", "of"])
    return out


def _kept_number(before: str | None, after: str, last_but_one: bool) -> bool:
    """True for "Fr 4 NB", "FM 1960 Rd", "S 500 E", "12 block": numbers that are not houses."""
    word = after.strip(",").lower()
    previous = (before or "").strip(",").lower()
    if word.upper() in _BOUND or word == "block" or previous in _ROUTE_WORDS:
        return True
    if last_but_one and word.upper() in _DIRECTIONS and previous.upper() in _DIRECTIONS:
        return True  # a grid street name ends the part: "1234 S 500 E"
    return word in _STREET_TYPES and previous in _CONNECTORS


def _block(number: str, size: int) -> int:
    return int(number) // size * size


def _case(text: str) -> str:
    return _WORD.sub(lambda m: _case_word(m[0], m.start() == 0), text)


def _case_word(word: str, first: bool) -> str:
    upper = word.upper()
    ordinal = _ORDINAL.match(word)
    if ordinal:
        return ordinal[1] + ordinal[2].lower()
    if upper in _UPPER or _HIGHWAY.match(word) or any(c.isdecimal() for c in word[1:]):
        return upper  # codes with digits inside ("127A", "IH45IB") keep the source's capitals
    if word.lower() in {"of", "block"} and not first:
        return word.lower()
    if word != upper and word != word.lower():
        return word  # mixed case is the source's own spelling ("McClellan")
    return "'".join(piece.capitalize() for piece in word.split("'"))
