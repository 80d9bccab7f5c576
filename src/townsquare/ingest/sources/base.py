"""The adapter contract: a source yields raw items and never touches the database.

The core (ingest.service) keeps every raw item, normalizes it and quarantines what fails,
so an adapter reports a record it could not read faithfully by setting `defect` instead of
dropping it; only a payload that cannot be read at all raises SourceError.

A kind with knobs of its own declares them as a Pydantic model, the class attribute
`Options` (best a subclass of `KindOptions`, which refuses unknown keys), validated from the
table `options_table` of the source file (default `options`: `[options]`). The adapter reads
them with `config.kind_options(MyOptions)`. A kind without `Options` takes no such table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from townsquare.errors import SourceError

if TYPE_CHECKING:
    from townsquare.ingest.config import SourceConfig


@dataclass(frozen=True, slots=True)
class RawItem:
    """One record exactly as received, and where in the payload it was."""

    position: str
    """Where in the payload, e.g. "line 17"."""
    payload: dict[str, str]
    """The record as received (CSV: header -> cell, unchanged)."""
    defect: str | None = None
    """Why the record could not be read faithfully (e.g. a row with too many cells);
    normalize() quarantines such a record under `defect_field`, or `_row`."""
    defect_field: str | None = None
    """The field that could not be read (a value nested past `MAX_DEPTH`), if one was."""
    normalized: tuple[object, object] | None = None
    """(config, its NormalizedRecord or NormalizeError), when ingest.columnar normalized
    the item's page column by column; normalize() answers with it for that config."""


MAX_DEPTH = 32
"""How deep a record's values may nest (XML elements, JSON objects and lists): a real feed
nests a few levels; a hostile one nests thousands, which would exhaust the stack."""


class TooDeep(SourceError):
    """A value nested past `MAX_DEPTH`; names the field where it went too deep."""

    def __init__(self, field: str) -> None:
        shown = field if len(field) <= 80 else field[:77] + "..."
        super().__init__(f"field {shown!r} nests deeper than {MAX_DEPTH} levels")
        self.field = shown


def record(position: str, read: Callable[[], dict[str, str]]) -> RawItem:
    """The item of one record, or a defective one naming the field nested too deep."""
    try:
        return RawItem(position, read())
    except TooDeep as exc:
        return RawItem(position, {}, exc.detail, exc.field)


class KindOptions(BaseModel):
    """Base of a kind's `Options`: unknown keys are errors, values are fixed once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceAdapter(Protocol):
    """A feed reader of one kind, found by `kind` in the `townsquare.sources` entry points.

    Optional class attributes: `Options` (a `KindOptions` model of the kind's own table) and
    `options_table` (that table's name, default "options").
    """

    kind: ClassVar[str]

    def fetch(self, config: SourceConfig) -> Iterator[RawItem]:
        """Every record the source currently holds, in payload order."""
        ...
