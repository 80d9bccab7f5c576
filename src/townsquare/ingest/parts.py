"""Values that are not one cell: columns joined, a template filled, a part cut out of a cell.

The plan of a mapping (`normalize.Plan`) computes each such value once per record and reads it
under the field's `key`, so the rest of normalization sees one flat record as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from townsquare.ingest.fields import FieldSpec

Reader = Callable[[dict[str, str], frozenset[str]], str | None]


def _cell(payload: dict[str, str], column: str, missing: frozenset[str]) -> str | None:
    value = payload.get(column)
    if value is None:
        return None
    value = value.strip()
    return None if value in missing else value


def reader(spec: FieldSpec) -> Reader:
    """A function giving the spec's value from a payload (None: missing or no match)."""
    whole = _whole(spec)
    if spec.pattern:
        compiled = re.compile(spec.pattern)
        group: str | int = spec.group or next(iter(compiled.groupindex), 0)

        def matched(payload: dict[str, str], missing: frozenset[str]) -> str | None:
            value = whole(payload, missing)
            found = compiled.search(value) if value is not None else None
            part = found.group(group) if found is not None else None
            return part.strip() or None if part is not None else None

        return matched
    if spec.split:
        separator, index = spec.split, spec.index

        def cut(payload: dict[str, str], missing: frozenset[str]) -> str | None:
            value = whole(payload, missing)
            if value is None:
                return None
            parts = value.split(separator)
            if not -len(parts) <= index < len(parts):
                return None
            return parts[index].strip() or None

        return cut
    return whole


def _whole(spec: FieldSpec) -> Reader:
    if spec.template:
        template, names = spec.template, spec.template_columns()

        def filled(payload: dict[str, str], missing: frozenset[str]) -> str | None:
            cells = {name: _cell(payload, name, missing) for name in names}
            if any(v is None for v in cells.values()):
                return None
            return template.format_map(cells)

        return filled
    if spec.columns:
        columns, separator = spec.columns, spec.separator

        def joined(payload: dict[str, str], missing: frozenset[str]) -> str | None:
            cells = [_cell(payload, column, missing) for column in columns]
            if any(v is None for v in cells):
                return None
            return separator.join(v for v in cells if v is not None)

        return joined
    column = spec.column
    return lambda payload, missing: _cell(payload, column, missing)


def describe(spec: FieldSpec) -> str:
    """Why a derived value is missing, for a quarantine reason."""
    if spec.pattern:
        return f"missing: no match of pattern {spec.pattern!r} in {', '.join(spec.sources())}"
    if spec.split:
        return (
            f"missing: no part {spec.index} of {', '.join(spec.sources())} split on {spec.split!r}"
        )
    return f"missing: one of {', '.join(spec.sources())} is empty"
