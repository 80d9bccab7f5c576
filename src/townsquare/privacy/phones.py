"""Phone numbers found by their shape, valid or not: runs of digits joined by phone punctuation.

`phonenumbers` reads only numbers it calls possible, so 555 numbers, numbers with an
extension, digits split by spaces ("206 555 01 00") or written with no separators passed it.
Here every run of digit groups separated only by spaces, dashes, dots, slashes and
parentheses is one number: seven digits or more (with its "+" prefix, its parentheses and an
extension tail such as "x123", "ext. 45" or "#12") become "[phone]"; then `phonenumbers`
reads what is left. What public text keeps is protected first: dates, year ranges, clock
times, hundred blocks ("1200 block of"), ranges of house numbers ("1200 - 1299"), ZIP+4
codes and coordinates ("47.6563, -122.3544", "-122.3544"). A run with no
separators of a length no phone has (8, 9, 12 digits or more) and the "24-123456" shape are
left to the case-code pattern of `text`, which removes them too. Over-matching (a list of
small numbers, a positive coordinate with four decimals) is preferred to leaking.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

PHONE = "[phone]"
MIN_DIGITS = 7
"""A run with this many digits or more is a phone number (a local 7-digit number is one)."""

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"
_PROTECTED = re.compile(
    r"(?<!\d[-/.])(?<!\d)(?:"
    rf"{_YEAR}[-/.]{_MONTH}[-/.]{_DAY}"  # 2011-10-24
    rf"|{_DAY}[-/.]{_DAY}[-/.](?:{_YEAR}|\d{{2}})"  # 10/24/2011, 24.10.11
    rf"|{_YEAR}[ \t]*[-–/][ \t]*(?:{_YEAR}|\d{{2}})"  # 2019-2020, 2019/20
    r")(?![-/.]?\d)"
    r"|(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)"  # 14:35, 9:05:10
    r"|(?<![\d.-])\d{5}-\d{4}(?![\d-])"  # ZIP+4: no phone number has nine digits
    r"|(?<![\d.])-?\d{1,3}\.\d{4,}[ \t]*,[ \t]*-?\d{1,3}\.\d{4,}(?![\d.])"  # 47.6563, -122.3544
    r"|(?<![\d.])-\d{1,3}\.\d+(?![\d.])"  # -122.3544: no phone number has a sign
    r"|(?<!\d[-/.])(?<!\d)\d+[ \t]+block\b",  # 1200 block of
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_GAP = re.compile(
    r"[ \t]{0,3}(?:[-./–\u2011][ \t]{0,3}|\)[ \t]{0,3}(?:[-./][ \t]{0,3})?|\([ \t]{0,3})?"
)
_LEAD = re.compile(r"(?:\+[ \t]{0,2})?\(?[ \t]{0,2}\Z")
_EXTENSION = re.compile(
    r"[ \t]*,?[ \t]*(?:x|ext|extn|extension|#)[ \t]*[.:]?[ \t]*\d{1,6}(?!\w)", re.IGNORECASE
)
_CASE_SHAPE = re.compile(r"(?:\d{2}|\d{4})-\d{5,}")
_PHONE_LENGTHS = (7, 10)


def scrub_phones(text: str, region: str) -> str:
    """`text` with every phone-shaped run of seven digits or more replaced by "[phone]", then
    every number `phonenumbers` reads as possible in `region` (outside protected shapes)."""
    if sum(c.isdecimal() for c in text) < MIN_DIGITS:
        return text
    parts: list[str] = []
    done = 0
    for start, end in _phone_spans(text):
        parts += [text[done:start], PHONE]
        done = end
    text = "".join(parts) + text[done:]
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    leniency = phonenumbers.Leniency.POSSIBLE
    found = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region, leniency)]
    for start, end in reversed(found):
        if _glued_right(text, end):
            continue  # "10611 15th Ave": a house number and a numbered street, not a phone
        if not any(p_start <= start and end <= p_end for p_start, p_end in protected):
            text = text[:start] + PHONE + text[end:]
    return text


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    done = 0
    for whole in _chains(text):
        # Digits an extension already took ("x123 4127 Phinney") start no new number.
        chain = [token for token in whole if token.start() >= done]
        if not chain:
            continue
        for part in _split(text, chain, _plus(text, chain[0].start())):
            span = _span(text, part)
            if span is not None:
                yield span
                done = span[1]


def _split(text: str, chain: list[re.Match[str]], plus: bool) -> list[list[re.Match[str]]]:
    """The chain cut at spaces around the one phone number in it, when the digits beside it
    are too few to be one ("unit 4 206 555 0100 12 units"): those stay. A number grouped as
    phone numbers are ("555-0100", "206 555 0100") is preferred to a longer one. With no such
    number the whole chain is one ("206-555-0100/206-555-0101" is scrubbed as one)."""
    if _usual(chain):
        return [chain]
    cuts = [0] + [i for i in range(1, len(chain)) if _spaced(text, chain[i - 1], chain[i])]
    best: tuple[bool, int, int, int] | None = None
    for first in cuts[:1] if plus else cuts:
        for last in [*(c for c in cuts if c > first), len(chain)]:
            before, middle, after = chain[:first], chain[first:last], chain[last:]
            if _phone_length(middle) and _count(before) < MIN_DIGITS > _count(after):
                rank = (_usual(middle), _count(middle), first, last)
                if best is None or rank[:2] > best[:2]:
                    best = rank
    if best is None:
        return [chain]
    first, last = best[2], best[3]
    return [part for part in (chain[:first], chain[first:last], chain[last:]) if part]


_USUAL_GROUPS = {(3, 3, 4), (1, 3, 3, 4), (3, 4), (10,), (7,), (11,), (3, 7), (1, 10)}
_USUAL_GROUPS |= {(3, 3, 2, 2), (1, 3, 3, 2, 2), (1, 3, 7)}


def _usual(chain: list[re.Match[str]]) -> bool:
    """Grouped as phone numbers are written (or one digit at a time)."""
    lengths = tuple(len(token[0]) for token in chain)
    return _phone_length(chain) and (lengths in _USUAL_GROUPS or set(lengths) == {1})


def _spaced(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Only spaces (and parentheses) between two groups: where two numbers may meet."""
    gap = text[left.end() : right.start()]
    return gap != gap.strip() and not gap.strip(" \t()")


def _count(chain: list[re.Match[str]]) -> int:
    return sum(len(token[0]) for token in chain)


def _phone_length(chain: list[re.Match[str]]) -> bool:
    """Seven or ten digits, or eleven with the country code 1 first."""
    digits = _count(chain)
    return digits in _PHONE_LENGTHS or (digits == 11 and chain[0][0].startswith("1"))


def _chains(text: str) -> Iterator[list[re.Match[str]]]:
    """Runs of digit groups that only phone punctuation separates."""
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    chain: list[re.Match[str]] = []
    for token in _DIGITS.finditer(text):
        if _inside(token, protected) or _glued_right(text, token.end()):
            if chain:
                yield chain
            chain = []
            continue
        if chain and not _joins(text, chain[-1].end(), token.start()):
            yield chain
            chain = []
        chain.append(token)
    if chain:
        yield chain


def _joins(text: str, end: int, start: int) -> bool:
    """Phone punctuation joins two groups; a spaced slash lists two numbers ("... / ...")."""
    gap = text[end:start]
    return _GAP.fullmatch(gap) is not None and not ("/" in gap and gap.strip() != gap)


def _inside(token: re.Match[str], spans: list[tuple[int, int]]) -> bool:
    return any(start <= token.start() < end for start, end in spans)


def _glued_right(text: str, end: int) -> bool:
    """A group followed by a letter ("1st", "12th", "26A01") is not part of a number, unless
    the letter starts an extension ("0100x12"). A group of four digits or more run into a word
    ("206-555-0100CALLER") is still part of a number."""
    if end >= len(text) or not text[end].isalpha():
        return False
    start = end
    while start > 0 and text[start - 1].isdecimal():
        start -= 1
    return end - start <= 3 and _EXTENSION.match(text, end) is None


def _span(text: str, chain: list[re.Match[str]]) -> tuple[int, int] | None:
    """Where the phone number of `chain` starts and ends, or None if it is no phone number."""
    digits = _count(chain)
    start, end = chain[0].start(), chain[-1].end()
    lead = _LEAD.search(text, max(0, start - 6), start)
    plus = _plus(text, start)
    if digits < MIN_DIGITS or _not_a_phone(text, chain, digits, plus):
        return None
    if lead is not None and lead[0].strip():
        start = lead.start() + len(lead[0]) - len(lead[0].lstrip())
    extension = _EXTENSION.match(text, end)
    if extension is not None:
        end = extension.end()
    if text.count("(", start, end) > text.count(")", start, end):
        if text.startswith(")", end):
            end += 1
        elif text[start] == "(":
            start += 1
    return start, end


def _plus(text: str, start: int) -> bool:
    """The number starts with "+": an international number of any length."""
    lead = _LEAD.search(text, max(0, start - 6), start)
    return lead is not None and "+" in lead[0]


def _not_a_phone(text: str, chain: list[re.Match[str]], digits: int, plus: bool) -> bool:
    """Long bare numbers and "24-123456" are case codes (`text` removes them as such); "1200 -
    1299" is a range of house numbers."""
    if plus:
        return False
    if len(chain) == 1:
        return not _phone_length(chain)
    if len(chain) != 2:
        return False
    first, second = chain[0][0], chain[1][0]
    whole = text[chain[0].start() : chain[1].end()]
    house_range = (
        len(first) == len(second) >= 3 and "-" in whole and 0 < int(second) - int(first) < 2000
    )
    return house_range or _CASE_SHAPE.fullmatch(whole) is not None
