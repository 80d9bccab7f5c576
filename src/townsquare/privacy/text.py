"""Free text made fit for the public: contact details, names, plates, birth dates, case codes.

Each finding is replaced by a bracketed word ("[phone]", "[email]", "[name]", "[plate]",
"[dob]", "[case]", "[unit]", "[redacted]") so a reader sees that something was removed.
Phone numbers are found by their shape, valid or not (`phones`: every run of seven digits
or more that phone punctuation joins, with its extension), then by `phonenumbers`; names
only after a role word, in any case (`names`: "RP", "caller", "victim named ...", "suspect
name: ..."), since a bare name cannot be told from a street or a business. Over-matching (a
list of numbers read as a phone number, a word after "victim" read as a name, a fire unit
after "unit" read as an apartment) is preferred to leaking. Scrubbing is idempotent:
scrubbed text scrubs to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from townsquare.privacy.names import scrub_names
from townsquare.privacy.phones import scrub_phones

DEFAULT_NAME_MARKERS = (
    *("RP", "R/P", "reporting party", "caller", "complainant", "witness", "victim", "suspect"),
    *("suspect name", "owner", "resident", "homeowner", "tenant", "neighbor", "neighbour"),
    *("mother", "father", "son", "daughter", "wife", "husband", "boyfriend", "girlfriend"),
    *("juvenile", "subject", "patient", "driver", "passenger", "person", "officer", "named"),
    *("name", "R/O", "registered owner", "reported by", "contact", "parent", "guardian"),
    *("brother", "sister", "roommate", "landlord"),
    # dispatchers' short forms: complainant, suspect, victim, witness, patient
    *("comp", "compl", "susp", "vict", "vic", "wit", "pt"),
)
"""Role words a name may follow; the same list as `[text] name_markers` in default_policy.toml."""
DEFAULT_REGION = "US"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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
_UNIT = re.compile(
    r"(?<![\w#])(apartment|apt|unit|suite|ste|room|rm|bldg|lot|#)(\.?[ \t]*(?:#|no\.?)?[ \t]*)"
    r"(?=[\w-]*\d)[\w-]{1,8}\b",  # APT 1234J, Unit #4B, # 12
    re.IGNORECASE,
)
_PLATE_SHAPES = re.compile(r"\b(?:[A-Z]{3}-?\d{3,4}|\d[A-Z]{3}\d{3}|\d{3}-?[A-Z]{3})\b")


@lru_cache(maxsize=16_384)
def _scrub(
    text: str,
    markers: tuple[str, ...],
    region: str,
    extra: tuple[str, ...],
    withheld: tuple[str, ...] | None,
) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _DOB.sub(lambda m: f"{m[1]}{m[2]}[dob]", text)
    text = _CASE_MARKED.sub(lambda m: f"{m[1]}{m[2]}[case]", text)
    text = _PLATE_MARKED.sub(lambda m: f"{m[1]}{m[2]}[plate]", text)
    text = scrub_phones(text, region)
    text = _CASE_CODES.sub("[case]", text)
    text = _PLATE_SHAPES.sub("[plate]", text)
    text = _UNIT.sub(lambda m: f"{m[1]}{m[2]}[unit]", text)
    text = scrub_names(text, markers, withheld)
    for pattern in extra:
        text = re.sub(pattern, "[redacted]", text)
    return text


def scrub_text(
    text: str,
    markers: Iterable[str] = DEFAULT_NAME_MARKERS,
    region: str = DEFAULT_REGION,
    extra_patterns: Iterable[str] = (),
    withheld_words: Iterable[str] | None = None,
) -> str:
    """`text` without phones, e-mails, plates, birth dates, case codes, unit numbers ("APT 4B")
    and names after markers; `withheld_words` (the policy's call-type words, the default
    policy's when None) are never taken for a name."""
    withheld = None if withheld_words is None else tuple(withheld_words)
    return _scrub(text, tuple(markers), region, tuple(extra_patterns), withheld)
