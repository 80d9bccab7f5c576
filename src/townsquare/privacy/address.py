"""Public forms of addresses, composed from parsed parts: hundred blocks or intersections.

`address_block` never edits the raw string into shape. It reads the address as tokens,
stops at the first token that starts something other than a place (a label such as
"CALLBACK", "RP:" or "C/B", a phone number of any shape, an e-mail, a unit or box
designator: "APT 4B", "#12"), splits intersections ("/", "&", "@", "and"), and labels each
street with the `usaddress` parser (a CRF) next to a small dispatch lexicon the parser does
not know (travel directions "NB", highways "I5", "SR520", connectors "At", ramps "Off Rp").
The public form is then built from the recognised parts only: block number, directions,
street name and type, the city when a state follows it; anything else ends the street.
Where the parser is unsure (a label out of order, a run it calls a recipient or a
landmark with no street type after it, a typeless name of more than two words, a
hyphenated word in a typeless name), the street ends there: dropping is the safe side.

Numbers: a number in house-number position becomes its block ("1234 Pine St" -> "1200
block of Pine St", "N1234 County Rd K" -> "N1200 block of County Rd K"); numbers that name
a road, an exit or a mile marker stay ("FM 1960 Rd", "Exit 127A", "I-90 MM 34"), as do
grid street names ("S 500 E"). A number that only precedes a freeway ("0 Sb I5 At ...") is
a placeholder and is dropped. Known limit: a one-word name written after a one-word street
that has no type ("At Spring John") has the shape of a two-word street ("At Lake City");
no parser can tell them apart, so labels and phone shapes are what catches it there.
"""

from __future__ import annotations

import re
from functools import lru_cache

import usaddress  # type: ignore[import-untyped]  # ships .pyi stubs but no py.typed

_TOKEN = re.compile(r"C/B|R/P|R/O|[/&,;]|[^\s/&,;]+", re.IGNORECASE)
_SEPARATORS = {"/", "&", "@", "and"}
_JUNK_WORDS = {
    # labels that introduce a callback, a caller or a note
    *("callback", "call-back", "cb", "c/b", "ph", "phone", "tel", "tele", "cell", "rp", "r/p"),
    *(";", "driver", "patient", "subject", "reporting", "owner", "resident", "occupant"),
    *("note", "notes", "per", "caller", "contact", "attn", "comp", "compl", "complainant"),
    *("witness", "victim", "suspect", "name", "email", "e-mail", "ext", "x", "re", "ref"),
    *("r/o", "susp", "vict", "vic", "wit", "wits", "reported", "parent", "guardian"),
    # unit, box and floor designators: they name one household
    *("apt", "apartment", "unit", "ste", "suite", "bldg", "building", "rm", "room", "spc"),
    *("space", "lot", "fl", "floor", "box", "po", "p.o.", "p.o", "pobox", "#", "no", "trlr"),
}
_PLACE_LABELS = {"call", "box", "location", "loc", "address", "addr", "place", "intersection"}
_PRE_TYPES = {"COUNTY", "STATE", "FARM", "RANCH", "INTERSTATE", "US"}  # "County Rd K"
_ARTICLES = {"el", "la", "las", "los", "del", "de", "the", "of"}
_RAMP_LEAD = {"on", "off", "entr", "exit", "entrance"}  # "Nb Off Rp": RP is a ramp here
_PHONE = re.compile(
    r"^\(?\d{3}\)?[-.]?\d{3}[-.]?\d{4}|^\d{3}[-.]\d{4}$|\(\d{3}\)|^\d{7,}|^[x#]\d+$|^ext\.?\d*$"
    r"|^\+\d",
    re.IGNORECASE,
)
_BOUND = {"NB", "SB", "EB", "WB", "IB", "OB", "IBOB", "OBIB"}
_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}
_HIGHWAY = re.compile(
    r"^[NSEW]?(?:I|IH|SR|US|SH|FM|BW|HWY)-?\d+[A-Z]*(?:-[A-Z0-9']+)?$", re.IGNORECASE
)
_ROUTE_WORDS = {
    # a number after these names a road, an exit or a marker, not a house
    *("i", "ih", "sr", "us", "fm", "sh", "cr", "hwy", "highway", "route", "rte", "rt"),
    *("rr", "hc", "exit", "mm", "mp", "marker", "mile", "bw", "spur", "loop", "interstate"),
    *("county", "state", "road", "rd", "pier"),
}
_ROUTE_NUMBER = re.compile(r"^\d+[A-Z]?$", re.IGNORECASE)
_CONNECTORS = {"at", "to", "fr", "from", "near", "toward"}
_FREEWAY_WORDS = {"frwy", "fwy", "exp", "cd", "ramp", "entr", "twy", "blk", "tunnel", "utrn"}
_FREEWAY_WORDS |= {"hov", "split"}
_HOUSE = re.compile(r"^(\d+)(?:-?[A-Z])?$", re.IGNORECASE)  # "1234", "1234B"; not "12th"
_RANGE = re.compile(r"^(\d+)-\d+$")
_GRID = re.compile(r"^([NSEW])(\d{3,})$", re.IGNORECASE)  # Wisconsin-style "N1234 Cty Rd K"
_STATES = {
    *("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL"),
    *("IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE"),
    *("NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD"),
    *("TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "ON", "BC", "QC"),
}
# usaddress labels of a street, in the order they come; a label going back ends the street.
_ORDER = {
    "AddressNumber": 0,
    "StreetNamePreModifier": 1,
    "StreetNamePreDirectional": 2,
    "StreetNamePreType": 3,
    "StreetName": 4,
    "StreetNamePostType": 5,
    "StreetNamePostDirectional": 6,
}
_STREET_TYPES = {name.upper() for name in usaddress.STREET_NAMES} | {"FRWY", "EXP"}
_UPPER = _BOUND | _DIRECTIONS | {"SF", "SFO", "US", "CD", "FM", "SH", "IH", "RR", "HC"}
_UPPER |= {"MM", "BW"}
_CITY = "\x00"  # marks the composed ", City, ST" so casing leaves it as it is
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


@lru_cache(maxsize=16_384)
def address_block(address: str | None, block_size: int = 100) -> str | None:
    """The public form of an address: block or intersection, None if nothing is left."""
    if block_size < 100 or block_size % 100:
        raise ValueError(f"block size {block_size} is not a multiple of 100")
    if address is None:
        return None
    parts: list[list[str]] = [[]]
    for token in _place_tokens(_TOKEN.findall(address)):
        if token.lower() in _SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(token)
    kept = [text for text in (_part(part, block_size) for part in parts) if text]
    return " / ".join(kept) or None


def _place_tokens(tokens: list[str]) -> list[str]:
    """The tokens before the first one that starts a label, a phone, an e-mail or a unit."""
    label = next((i for i, t in enumerate(tokens[:3]) if t.endswith(":")), None)
    if label is not None and all(
        t.lower().strip(":") in _PLACE_LABELS for t in tokens[: label + 1]
    ):
        tokens = tokens[label + 1 :]  # "CALL BOX: ...": a leading label names no place
    kept: list[str] = []
    for index, token in enumerate(tokens):
        word = token.lower().strip(".")
        starts_part = not kept or kept[-1].lower() in _SEPARATORS
        if starts_part and _RANGE.match(token):
            kept.append(token)  # "900-1000 Elliott Av W"; later, "555-9780" is a phone
            continue
        if _is_junk(word, token, kept, tokens[index + 1 : index + 2]) or (
            word == "rp" and "," in kept  # "..., CA RP": after a city RP is no ramp
        ):
            break
        kept.append(token)
    return kept


def _is_junk(word: str, token: str, before: list[str], after: list[str]) -> bool:
    previous = before[-1].lower() if before else ""
    if word == "rp" and _ramp_rp(previous, after):
        return False
    if word in _JUNK_WORDS or token.startswith("#") or ":" in token or "@" in token[1:]:
        return True
    if _PHONE.search(token) or "(" in token or ")" in token:
        return True
    # "206 555 9780", "555 9780": three digits then three or four are a phone number
    return (
        len(token) == 3
        and token.isdecimal()
        and bool(after)
        and after[0].isdecimal()
        and len(after[0]) in {3, 4}
    )


def _ramp_rp(previous: str, after: list[str]) -> bool:
    """ "Off Rp", "Admiral Avalon Rp": RP is a ramp after a name, a reporting party elsewhere."""
    if previous in _RAMP_LEAD:
        return True
    if not after or after[0].lower() not in _SEPARATORS:
        return False  # "RP JOHN SMITH", or a trailing "RP" (it is a ramp only before a "/")
    return previous.upper() not in _STREET_TYPES | _DIRECTIONS and previous.isalnum()


def _part(tokens: list[str], size: int) -> str:
    """One street (or freeway location) of an address, composed from its recognised parts."""
    while tokens and tokens[0].lower() in {"intersection", "of"}:
        tokens = tokens[1:]
    block, rest = _leading_number(tokens, size)
    words = _street(rest, size)
    if not words or all(w.isdecimal() for w in words if w != ","):
        return ""  # a bare number ("5/130") says nothing public
    city = "".join(w[1:] for w in words if w.startswith(_CITY))
    text = (_case(" ".join(w for w in words if not w.startswith(_CITY))) + city).lstrip(", ")
    return f"{block} block of {text}" if block is not None else text


def _leading_number(tokens: list[str], size: int) -> tuple[str | None, list[str]]:
    """A house number at the start, cut to its block; placeholder numbers dropped."""
    if not tokens:
        return None, tokens
    grid = _GRID.match(tokens[0])
    if grid is not None:
        return f"{grid[1].upper()}{_block(grid[2], size)}", _after_block_of(tokens[1:])
    number: str | None = None
    if len(tokens) > 2 and tokens[0].isdecimal() and tokens[1] == "-" and tokens[2].isdecimal():
        number, rest = tokens[0], tokens[3:]  # "4400 - 4499 Delridge Way"
    elif match := (_RANGE.match(tokens[0]) or _HOUSE.match(tokens[0])):
        number, rest = match[1], tokens[1:]
    if number is None:
        return None, tokens
    rest = _after_block_of(rest)
    if rest and (rest[0].upper() in _BOUND or _HIGHWAY.match(rest[0])):
        return None, rest  # "0 - 0 Sb I5 At Northgate": a placeholder, not an address
    if not rest or (rest[0].lower() in _ROUTE_WORDS | {"block"} and len(rest) == 1):
        return None, tokens
    return str(_block(number, size)), rest


def _after_block_of(tokens: list[str]) -> list[str]:
    if [t.lower() for t in tokens[:2]] == ["block", "of"]:
        return tokens[2:]
    return tokens


def _street(tokens: list[str], size: int) -> list[str]:
    """The recognised words of a street, up to the first word that is not one."""
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.lower() in _ROUTE_WORDS and following and _ROUTE_NUMBER.match(following):
            out += [token, following]  # "FM 1960", "Exit 127A", "MM 34"
            index += 2
        elif _lexical(token, out, following) or _grid_street(token, out, tokens[index + 1 :]):
            out.append(token)
            index += 1
        elif (house := _HOUSE.match(token) or _RANGE.match(token)) and following is not None:
            out += [str(_block(house[1], size)), "block", "of"]  # "... 5409 N IH 45 Fwy"
            index += 1
            if following == "-" and index + 1 < len(tokens) and tokens[index + 1].isdecimal():
                index += 2  # "Near 4400 - 4499 Pine St"
            index += 2 if [t.lower() for t in tokens[index : index + 2]] == ["block", "of"] else 0
        else:
            end = _run_end(tokens, index)
            # a name with no street type is a street only where a street can start, or
            # before a ramp or a road ("T C Jester Entr Ramp"); after "NB I5" it is not one
            bare = not out or out[-1].lower() in _CONNECTORS | {"-", "of", "blk"} or "-" in out[-1]
            ramp = end < len(tokens) and _names_a_ramp(tokens[end], tokens[end + 1 : end + 2])
            words, whole = _parsed_run(tokens[index:end], ramp or bare, ramp)
            out += words
            if not whole or (words and words[-1].startswith(_CITY)):
                break  # nothing the parser did not read, and nothing after a city, is kept
            index = end
    while out and (out[-1].lower() in _CONNECTORS | {"-", ",", "of", "block"}):
        out.pop()  # a connector or a comma with nothing after it
    return out


def _lexical(token: str, out: list[str], following: str | None) -> bool:
    """Dispatch words the parser does not know: travel directions, highways, connectors."""
    upper, lower = token.upper(), token.lower()
    previous = out[-1].lower() if out else ""
    if upper in _BOUND or _HIGHWAY.match(token) or lower in _FREEWAY_WORDS or lower == "rp":
        return True
    if lower in _CONNECTORS | {"-"}:
        return (bool(out) or lower == "near") and following is not None
    if lower in _RAMP_LEAD:
        return (following or "").lower() in {"rp", "ramp"}
    # a number right after a connector or a travel direction is an exit or a street
    return token.isdecimal() and (previous in _CONNECTORS - {"near"} or previous.upper() in _BOUND)


def _grid_street(token: str, out: list[str], after: list[str]) -> bool:
    """A grid street name ends the part: "1234 S 500 E"."""
    return (
        token.isdecimal()
        and len(after) == 1
        and bool(out)
        and out[-1].upper() in _DIRECTIONS
        and after[0].upper() in _DIRECTIONS
    )


def _names_a_ramp(token: str, after: list[str]) -> bool:
    """A dispatch word after a name makes it a road ("T C Jester Entr Ramp", "Rainier Sb")."""
    lower = token.lower()
    if token.upper() in _BOUND or _HIGHWAY.match(token) or lower in _FREEWAY_WORDS | {"rp"}:
        return True
    if lower in _ROUTE_WORDS and after and _ROUTE_NUMBER.match(after[0]):
        return True  # "S US 59 Fwy"
    return lower in _RAMP_LEAD and bool(after) and after[0].lower() in {"rp", "ramp"}


def _run_end(tokens: list[str], start: int) -> int:
    """Where a run of ordinary words (for the parser) ends: at the next dispatch word."""
    end = start + 1
    while end < len(tokens):
        token, lower = tokens[end], tokens[end].lower()
        following = tokens[end + 1] if end + 1 < len(tokens) else None
        if (
            _lexical(token, tokens[start:end], following)
            or (_HOUSE.match(token) and "," not in tokens[start:end])
            or (lower in _ROUTE_WORDS and following and _ROUTE_NUMBER.match(following))
        ):
            break
        end += 1
    return end


@lru_cache(maxsize=16_384)
def _labels(text: str) -> tuple[str, ...]:
    """The parser's label of each word of a street written without its house number.

    The parser learnt from whole addresses, so it reads "1st Av S" as house "1st" on "Av";
    a stand-in house number in front gives it the context it knows, and is not returned.
    """
    return tuple(label for _, label in usaddress.parse(f"1 {text}")[1:])


def _parsed_run(run: list[str], bare: bool, ramp: bool) -> tuple[list[str], bool]:
    """The words of a run the parser labels as street parts, and whether that is all of it.

    `bare` says a name with no street type may stand here (two words at most); `ramp`, that
    a dispatch word follows and ends the name ("T C Jester Entr Ramp"), so no limit applies.
    """
    words = [t for t in run if t != ","]
    labels = _labels(" ".join(run).replace(" ,", ","))
    if len(labels) != len(words):
        return [], False  # the parser split the words differently: unsure
    kept: list[str] = []
    rank, previous, typed = -1, "", False
    first_comma = run.index(",") if "," in run else len(run)
    names: list[str] = []  # the words labelled street name: a typeless street keeps two
    for position, (token, label) in enumerate(zip(words, labels, strict=True)):
        after_comma = position >= first_comma
        if after_comma and label != "PlaceName":
            return _typeless_guard(
                kept, names, typed or ramp, bare
            ), False  # after a comma only a city
        if label == "PlaceName" and (typed or not kept):
            city, used = _city(words[position:], labels[position:])
            if city:
                street = _typeless_guard(kept, names, typed or ramp, bare)
                return [*street, city], position + used == len(words)
        if token.upper() in _DIRECTIONS and (
            (label == "StreetNamePreDirectional" and rank >= 4) or (label == "StreetName" and typed)
        ):
            label = "StreetNamePostDirectional"  # "Phinney Av N": the parser's slip
        if len(words) == 1 and token.upper() in _STREET_TYPES:
            label = "StreetNamePostType"  # "Alemany SB Bl": a type after a travel direction
        if (
            label == "StreetName"
            and not typed
            and (kept or not bare)  # "North Rd", "FM 1960 Byp": the type of the road before
            and token.upper() in _STREET_TYPES
            and "StreetNamePostType" not in labels[position:]
            and not any(_is_type(w) for w in words[position + 1 : position + 2])  # "Pine St"
        ):
            label = "StreetNamePostType"  # "E Pine St John Smith": the street ends at "St"
        if label not in _ORDER or label == "AddressNumber" or not _fits(token, label):
            label = _unsure(token, typed, kept) or ""
        if (
            not label
            or _ORDER[label] < rank
            or (previous == "StreetNamePostType" and label == "StreetName")
        ):
            return _typeless_guard(kept, names, typed or ramp, bare), False  # "Pine St John Smith"
        typed = typed or label == "StreetNamePostType"
        rank, previous = _ORDER[label], label
        kept.append(token)
        names += [token] if label == "StreetName" and token.lower() not in _ARTICLES else []
    guarded = _typeless_guard(kept, names, typed or ramp, bare)
    return guarded, bool(guarded) and guarded == kept


def _is_type(word: str) -> bool:
    return word.upper() in _STREET_TYPES


def _fits(token: str, label: str) -> bool:
    """A direction or a street type the parser names must be one ("Way Jo" is no direction)."""
    if label.endswith("Directional"):
        return token.lower() in usaddress.DIRECTIONS
    if label.endswith("Type"):
        return token.upper() in _STREET_TYPES | _PRE_TYPES
    return True


def _unsure(token: str, typed: bool, kept: list[str]) -> str | None:
    """A label the parser gave outside a street: keep a street-type word, end otherwise."""
    upper = token.upper()
    if not typed and kept and upper in _STREET_TYPES:
        return "StreetNamePostType"  # "DIAMOND HEIGHTS BL" read as a landmark
    if typed and upper in _DIRECTIONS:
        return "StreetNamePostDirectional"
    if not typed and (token.isalpha() or _ORDINAL.match(token)):
        return "StreetName"  # a bare name ("Montlake"): the typeless guard bounds it
    return None


def _typeless_guard(kept: list[str], names: list[str], typed: bool, bare: bool) -> list[str]:
    """A street with no type keeps at most two name words, none hyphenated: else nothing."""
    while kept and kept[-1].lower() in _ARTICLES:
        kept = kept[:-1]  # "Montlake De La [Cruz Maria]": an article ends no street
    if typed:
        return kept
    if (names and not bare) or len(names) > 2 or any("-" in w for w in names):
        return []  # "Avenue C" passes; "Avenue C Mary Ann Lee" does not
    return kept


def _city(words: list[str], labels: tuple[str, ...]) -> tuple[str, int]:
    """ "City, ST" after a street, and the words it took: kept only when a state follows."""
    size = next((i for i, label in enumerate(labels) if label != "PlaceName"), len(labels))
    city, after = words[:size], words[size:]
    if size > 3 or not all(w.isalpha() for w in city) or not after:
        return "", 0
    if after[0].upper() not in _STATES:
        return "", 0
    place = f"{_CITY}, {_case(' '.join(city))}, {after[0].upper()}"
    if len(after) > 1 and re.fullmatch(r"\d{5}", after[1]):
        return f"{place}, {after[1]}", size + 2
    return place, size + 1


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
