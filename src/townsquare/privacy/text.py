"""Free text made fit for the public: contact details, names, plates, birth dates, case codes.

Each finding is replaced by a bracketed word ("[phone]", "[email]", "[name]", "[plate]",
"[dob]", "[case]", "[redacted]") so a reader sees that something was removed. Phone numbers
are found by `phonenumbers` (possible numbers, local 7-digit ones included) and by a
pattern for the shapes it does not read; names only after a marker word ("RP", "caller",
"victim", "suspect name: ..."), since a bare name cannot be told from a street or a
business. Over-matching (a coordinate read as a phone number, a word after "victim" read
as a name) is preferred to leaking. Scrubbing is idempotent: scrubbed text scrubs to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

DEFAULT_NAME_MARKERS = (
    "RP",
    "R/P",
    "reporting party",
    "caller",
    "complainant",
    "victim",
    "suspect",
    "suspect name",
    "witness",
    "patient",
    "subject",
    "driver",
    "named",
    "name",
)
DEFAULT_REGION = "US"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}"  # international: +44 20 7946 0958
    r"|(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"  # (206) 555-0100
    r"|\d{10}"  # 2065550100
    r"|\d{3}[.-]\d{4}"  # 555-0100
    r")(?![\w])"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4})"
)
_DOB = re.compile(
    rf"\b(D\.?O\.?B\.?|date of birth|born|birth ?date)(\s*[:#-]?\s*(?:on\s+)?){_DATE}",
    re.IGNORECASE,
)
_CASE_MARKED = re.compile(
    r"\b(case|report|incident|inc|event|cad|file|rd|go|dr|cr)(\s*(?:no\.?|number|#)\s*:?\s*|"
    r"\s*[:#]\s*|\s+)(?=[\w-]*\d)[A-Z0-9][\w-]{3,}",
    re.IGNORECASE,
)
_CASE_CODES = re.compile(
    r"\b(?:[A-Z]{1,3}\d{6,}|(?:19|20)?\d{2}-\d{5,}|\d{8,})\b"  # F110104134, 24-123456
)
_PLATE_MARKED = re.compile(
    r"\b(plates?|lic(?:ense|ence)?(?: plate)?|tags?|lp)(\s*(?:no\.?|#|:)?\s*(?:[A-Z]{2}\s+)?)"
    r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{1,8}\b",
    re.IGNORECASE,
)
_PLATE_SHAPES = re.compile(r"\b(?:[A-Z]{3}-?\d{3,4}|\d[A-Z]{3}\d{3}|\d{3}-?[A-Z]{3})\b")
_NAME_WORD = r"[A-Z][A-Za-z'’.-]*"
_NAME_STOP = {
    *("reports", "reported", "reporting", "states", "stated", "says", "said", "advises"),
    *("advised", "called", "calling", "calls", "requests", "requesting", "request", "is"),
    *("was", "at", "on", "in", "with", "and", "or", "from", "to", "who", "saw", "sees"),
    *("heard", "hears", "see", "of", "the", "a", "an", "his", "her", "their", "not", "no"),
    *("unk", "unknown", "left", "fled", "wants", "needs", "has", "had", "refused", "gone"),
    *("name", "named", "info", "information", "transported", "declined", "vehicle", "veh"),
}


@lru_cache(maxsize=16_384)
def _scrub(text: str, markers: tuple[str, ...], region: str, extra: tuple[str, ...]) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _DOB.sub(lambda m: f"{m[1]}{m[2]}[dob]", text)
    text = _CASE_MARKED.sub(lambda m: f"{m[1]}{m[2]}[case]", text)
    text = _PLATE_MARKED.sub(lambda m: f"{m[1]}{m[2]}[plate]", text)
    text = _phones(text, region)
    text = _CASE_CODES.sub("[case]", text)
    text = _PLATE_SHAPES.sub("[plate]", text)
    text = _names(text, markers)
    for pattern in extra:
        text = re.sub(pattern, "[redacted]", text)
    return text


def scrub_text(
    text: str,
    markers: Iterable[str] = DEFAULT_NAME_MARKERS,
    region: str = DEFAULT_REGION,
    extra_patterns: Iterable[str] = (),
) -> str:
    """`text` without phones, e-mails, plates, birth dates, case codes and names after markers."""
    return _scrub(text, tuple(markers), region, tuple(extra_patterns))


def _phones(text: str, region: str) -> str:
    found = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    spans = [(m.start, m.end) for m in found]
    for start, end in reversed(spans):
        text = text[:start] + "[phone]" + text[end:]
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdecimal() for c in match[0])
    return "[phone]" if digits >= 7 else match[0]


@lru_cache(maxsize=64)
def _name_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in sorted(markers, key=len)[::-1])
    return re.compile(
        rf"(?<![\w/])((?:{words})(?:'s)?(?:\s+name)?(?:\s*(?:is|:|-|=|—)\s*|\s+))"
        rf"({_NAME_WORD}(?:,?\s+{_NAME_WORD}){{0,2}})",
        re.IGNORECASE,
    )


def _names(text: str, markers: tuple[str, ...]) -> str:
    if not markers:
        return text
    return _name_pattern(markers).sub(_name, text)


def _name(match: re.Match[str]) -> str:
    # The pattern is case-insensitive for the marker; a name word must still start with a
    # capital, and stops at the first ordinary word ("caller states ...").
    words = re.split(r"(,?\s+)", match[2])
    kept: list[str] = []
    for index in range(0, len(words), 2):
        word = words[index]
        if not word[:1].isupper() or word.lower().strip(".") in _NAME_STOP:
            break
        kept.append(word)
    if not kept:
        return match[0]
    consumed = "".join(words[: 2 * len(kept) - 1])
    return f"{match[1]}[name]{match[2][len(consumed) :]}"
