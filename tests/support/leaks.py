"""Looking for planted values in everything the platform shows, and saying where each was.

Detection is exact: names and e-mail local parts are invented words, found as whole words
in any case; a phone number is found by taking each phone-shaped run of characters (digits,
spaces, dots, dashes, brackets, a plus), keeping only its digits and looking for the planted
7- and 10-digit runs in it, so "206 555 9780", "(206) 555-9780 x12" and "+1.206.555.9780"
are all the same number. A decimal with one point (a coordinate, a float) and runs with a
group of more than 11 digits (an epoch, an id) are not phone-shaped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tests.support.planted import TOKEN_TYPES, Ledger, Origin

_WORD = re.compile(r"[a-z]+")
_PHONEISH = re.compile(r"(?<![A-Za-z0-9_.])\+?[\d(][\d\s().+-]{5,}\d(?![0-9A-Za-wyz_])")
_DECIMAL = re.compile(r"(?<![\d.])-?\d+\.\d+(?![\d.])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_UNIT = re.compile(r"(?:^|(?<=[\s#]))\d{3,4}[jqx]\b")  # as written: "apt 1234j", "#1234j"
_HOUSE = re.compile(r"\b(\d+)\s+([a-z0-9]+)")
_DOB = re.compile(r"\d{2}/\d{2}/\d{4}")
_PLATE = re.compile(r"\b[a-z]{3}\d{4}\b")


@dataclass(frozen=True)
class Hit:
    """The first place a planted value was found."""

    value: str
    origin: Origin
    where: str
    context: str


@dataclass
class Scan:
    """The planted values found so far, by token type and value."""

    ledger: Ledger
    hits: dict[tuple[str, str], Hit] = field(default_factory=dict)
    places: Counter[str] = field(default_factory=Counter)
    """How many texts were looked at, by the kind of place ("api", "mail", ...)."""

    def __post_init__(self) -> None:
        # An e-mail's local part starts with an invented word: found alone, it is a leak too.
        self._locals = {email.split(".")[0]: email for email in self.ledger.tokens["emails"]}
        self._sets = {kind: frozenset(values) for kind, values in self.ledger.tokens.items()}
        self._local_set = frozenset(self._locals)

    def look(self, where: str, text: str) -> None:
        """Look for every planted value in `text`, shown at `where`."""
        self.places[where.split(" ", 1)[0]] += 1
        low = text.lower()
        tokens, sets = self.ledger.tokens, self._sets
        words = set(_WORD.findall(low))
        found: dict[str, set[str]] = {
            "names": words & sets["names"],
            "phones": _phones(low) & sets["phones"],
            "emails": set(_EMAIL.findall(low)) & sets["emails"],
            "units": set(_UNIT.findall(low)) & sets["units"],
            "houses": {f"{n} {s}" for n, s in _HOUSE.findall(low)} & sets["houses"],
            "dobs": set(_DOB.findall(low)) & sets["dobs"],
            "plates": set(_PLATE.findall(low)) & sets["plates"],
        }
        found["emails"] |= {self._locals[w] for w in words & self._local_set}
        for kind, values in found.items():
            for value in values:
                if (kind, value) not in self.hits:
                    needle = value.split(".")[0] if kind != "phones" else value[-4:]
                    at = max(0, low.find(needle))
                    context = text[max(0, at - 70) : at + 50].replace("\n", " ")
                    origin = tokens[kind][value]
                    self.hits[(kind, value)] = Hit(value, origin, where, context)

    def figures(self) -> str:
        """Per kind and field: texts planted, values planted and found per token type (a phone
        number found by its 10 and its 7 digits counts once)."""
        keys = sorted({(k, f) for k, f, _ in self.ledger.planted} | set(self.ledger.texts))
        distinct = {(t, v[-7:] if t == "phones" else v): h for (t, v), h in self.hits.items()}
        found = Counter((h.origin.kind, h.origin.field, t) for (t, _), h in distinct.items())
        head = f"{'kind':<10}{'field':<22}{'texts':>7}  " + "  ".join(
            f"{t + ' planted/found':>20}" for t in TOKEN_TYPES
        )
        lines = [head]
        for kind, name in keys:
            cells = []
            for t in TOKEN_TYPES:
                planted = self.ledger.planted[(kind, name, t)]
                cells.append(f"{f'{planted}/{found[(kind, name, t)]}' if planted else '-':>20}")
            lines.append(
                f"{kind:<10}{name:<22}{self.ledger.texts[(kind, name)]:>7}  " + "  ".join(cells)
            )
        total = sum(self.ledger.texts.values())
        lines.append(f"{total} planted texts; places looked at: {dict(self.places)}")
        return "\n".join(lines)

    def failures(self) -> str:
        """Per kind and field, per shape: which planted values leaked, and the first example."""
        by_field: dict[tuple[str, str], list[tuple[str, Hit]]] = {}
        for (kind, _), hit in sorted(self.hits.items()):
            by_field.setdefault((hit.origin.kind, hit.origin.field), []).append((kind, hit))
        out = []
        for (kind, name), hits in sorted(by_field.items()):
            out.append(f"[{kind} / {name}] {len(hits)} planted values leaked")
            shapes: dict[str, list[tuple[str, Hit]]] = {}
            for token_type, hit in hits:
                shapes.setdefault(hit.origin.shape, []).append((token_type, hit))
            for shape, found in sorted(shapes.items()):
                types = Counter(t for t, _ in found)
                token_type, first = found[0]
                variants = [v.split("|") for _, h in found for v in h.origin.variants]
                out.append(
                    f"  shape {shape!r}: {dict(types)}; e.g. {token_type[:-1]} {first.value!r} "
                    f"planted in {first.origin.text!r}, found in {first.where}: "
                    f"...{first.context}..."
                )
                if variants:
                    markers, cases, words = (sorted({v[n] for v in variants}) for n in range(3))
                    out.append(
                        f"    after the markers {', '.join(map(repr, markers))}; "
                        f"names in case {'/'.join(cases)}, of {'/'.join(words)} words"
                    )
        return "\n".join(out)

    def leaked_shapes(self) -> set[tuple[str, str, str]]:
        """(kind, field, shape) of every leak."""
        return {(h.origin.kind, h.origin.field, h.origin.shape) for h in self.hits.values()}


def _phones(text: str) -> set[str]:
    found: set[str] = set()
    for match in _PHONEISH.finditer(_DECIMAL.sub(" ; ", text)):
        chunk = match[0].strip()
        if any(len(g) > 11 for g in re.findall(r"\d+", chunk)):
            continue
        digits = re.sub(r"\D", "", chunk)
        for size in (7, 10):
            found.update(digits[i : i + size] for i in range(len(digits) - size + 1))
    return found
