"""Public forms of addresses and free text: hundred blocks, no unit numbers, no contact details.

`address_block` never returns a house number: a number in house-number position becomes the
hundred block ("1234 Pine St" -> "1200 block of Pine St"); intersections and freeway
locations ("NB I5 At Spring") are kept; apartment, unit and suite designators are dropped.
Output is in one normal form whatever the input's case or separators, so "PHINNEY AV N /
N 46TH ST" and "Phinney Av N / N 46th St" read the same. Addresses are read number-first
(North American order); a number ending a part is an exit or street ("SB I5 At 50").
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"\s*(?:/|&|\s@\s)\s*")
_LABEL = re.compile(r"^[^\W\d_][^\W\d_ ]*(?: [^\W\d_]+){0,2}\s*:\s*")  # "CALL BOX: ..."
_UNIT = re.compile(
    r"(?:,\s*)?(?:#\s*|\b(?:apt|apartment|unit|ste|suite|bldg|building|rm|room|spc|space)\b\.?"
    r"\s*#?\s*)(?:[\w-]*\d[\w-]*|[^\W\d_]\b)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"\b(\d+)\s*-\s*\d+\b(?=\s+\w)")  # "4400 - 4499 Delridge Way"
_BLOCK_OF = re.compile(r"^(\d+)\s+block\s+of\s+", re.IGNORECASE)
_HOUSE = re.compile(r"^(\d+)(?:-?[^\W\d_])?\s+")  # "1234 Pine", "1234B Pine"; not "12th"
_COMMA = re.compile(r"\s*,\s*")
_HOUSE_TOKEN = re.compile(r"^(\d+)(?:-?[^\W\d_])?$")  # "1234", "1234B"; not "12th"
_ANY_BLOCK = re.compile(r"(\d+)(\s+block\b)", re.IGNORECASE)

_BOUND = {"NB", "SB", "EB", "WB"}
_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}
_UPPER = _BOUND | _DIRECTIONS | {"SF", "SFO", "US", "CD"}
_STREET_TYPES = {
    "av",
    "ave",
    "avenue",
    "st",
    "street",
    "rd",
    "road",
    "dr",
    "drive",
    "way",
    "wy",
    "pl",
    "place",
    "blvd",
    "boulevard",
    "ln",
    "lane",
    "ct",
    "court",
    "ter",
    "terrace",
    "pkwy",
    "hwy",
    "highway",
    "cir",
    "circle",
    "br",
    "bridge",
    "expy",
    "frwy",
    "fwy",
    "trl",
    "loop",
}
_CONNECTORS = {"at", "to", "fr", "from"}  # freeway descriptions: "SB I5 At 1 Av S"
_HIGHWAY = re.compile(r"^(?:I|SR|US|HWY)-?\d+[A-Z]?$", re.IGNORECASE)
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}"  # international: +44 20 7946 0958
    r"|(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # (206) 555-0100
    r"|\d{10}"  # 2065550100
    r"|\d{3}[.-]\d{4}"  # 555-0100
    r")(?![\w])"
)


def address_block(address: str | None) -> str | None:
    """The public form of an address: hundred block or intersection, None if nothing is left."""
    if address is None:
        return None
    parts = [_part(p) for p in _SEPARATORS.split(" ".join(address.split()))]
    kept = [p for p in parts if p]
    if not kept:
        return None
    text = " / ".join(kept)
    # Last guard: whatever the input, no "<n> block" with n not a hundred survives.
    return _ANY_BLOCK.sub(lambda m: f"{_hundred(m[1])}{m[2]}", text)


def _part(text: str) -> str:
    text = _LABEL.sub("", text)
    text = " ".join(_UNIT.sub(" ", text).split()).strip(" ,-")
    text = _RANGE.sub(r"\1", _COMMA.sub(", ", text))
    block, rest = _leading_number(text)
    words = _mid_numbers(rest.split())
    if not words or all(w.isdecimal() for w in words):
        return ""  # a bare number ("5/130") says nothing public
    rest = _case(" ".join(words))
    return f"{block} block of {rest}" if block is not None else rest


def _leading_number(text: str) -> tuple[int | None, str]:
    """A house number at the start, cut to its hundred; placeholder prefixes dropped."""
    for pattern in (_BLOCK_OF, _HOUSE):
        match = pattern.match(text)
        if match is None:
            continue
        rest = text[match.end() :]
        first = rest.split(maxsplit=1)[0] if rest else ""
        if first.upper() in _BOUND or _HIGHWAY.match(first):
            return None, rest  # "0 - 0 Sb I5 At Northgate": a placeholder, not an address
        return _hundred(match[1]), rest
    return None, text


def _mid_numbers(words: list[str]) -> list[str]:
    """Numbers inside a part: exit and street numbers stay, house numbers become blocks."""
    out: list[str] = []
    for index, word in enumerate(words):
        house = _HOUSE_TOKEN.match(word)
        before = words[index - 1] if index else None
        after = words[index + 1] if index + 1 < len(words) else None
        if house is None or after is None or _kept_number(before, after):
            out.append(word)
        else:
            out.extend([str(_hundred(house[1])), "block", "of"])
    return out


def _kept_number(before: str | None, after: str) -> bool:
    """True for "Fr 4 NB", "At 1 Av S Bridge", "12 block": numbers that are not houses."""
    word = after.strip(",").lower()
    if word.upper() in _BOUND or word == "block":
        return True
    return word in _STREET_TYPES and (before or "").lower() in _CONNECTORS


def _hundred(number: str) -> int:
    return int(number) // 100 * 100


def _case(text: str) -> str:
    return _WORD.sub(lambda m: _case_word(m[0], m.start() == 0), text)


def _case_word(word: str, first: bool) -> str:
    upper = word.upper()
    if upper in _UPPER or _HIGHWAY.match(word):
        return upper
    ordinal = _ORDINAL.match(word)
    if ordinal:
        return ordinal[1] + ordinal[2].lower()
    if word.lower() in {"of", "block"} and not first:
        return word.lower()
    if word != upper and word != word.lower():
        return word  # mixed case is the source's own spelling ("McClellan")
    return "'".join(piece.capitalize() for piece in word.split("'"))


def scrub_text(text: str) -> str:
    """Free text without phone numbers or e-mail addresses (first slice of the privacy engine).

    Names of people, licence plates and case-internal codes are not yet scrubbed. Over-matching
    (a "555-0100"-shaped range) is preferred to leaking a number.
    """
    return _PHONE.sub(_phone, _EMAIL.sub("[email]", text))


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdecimal() for c in match[0])
    return "[phone]" if digits >= 7 else match[0]
