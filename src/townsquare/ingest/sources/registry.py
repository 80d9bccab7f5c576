"""Adapters by kind, found through the `townsquare.sources` entry-point group.

Built-in adapters register there too (pyproject.toml), exactly as a third-party package
would, so there is one lookup path and no list to keep in sync. Code that cannot ship an
entry point (an application's own kind, a test's) calls `register_kind`, the call the entry
points go through.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from townsquare.errors import ConfigError
from townsquare.ingest.sources.base import SourceAdapter
from townsquare.plugins import Registry

GROUP = "townsquare.sources"
KINDS: Registry[type[Any]] = Registry(GROUP, "source kind", "kinds")
"""Adapter classes by kind."""


def register_kind(adapter: type[Any]) -> type[Any]:
    """Make the adapter class `adapter` known under its `kind`."""
    return KINDS.register(str(getattr(adapter, "kind", "")), adapter)


def known_kinds() -> list[str]:
    """Every source kind an installed package provides, sorted."""
    return KINDS.names()


def adapter_class(kind: str) -> type[Any]:
    """The adapter class of `kind`; ConfigError lists the known kinds when there is none."""
    found = KINDS.get(kind)
    if getattr(found, "kind", None) != kind or not callable(getattr(found, "fetch", None)):
        raise ConfigError(f"{found!r} does not provide a {kind!r} adapter")
    return found


def adapter_for(kind: str) -> SourceAdapter:
    """A new adapter for `kind`; ConfigError lists the known kinds when there is none."""
    adapter: SourceAdapter = adapter_class(kind)()
    return adapter


def options_of(kind: str) -> tuple[str, type[BaseModel]] | None:
    """The table of a source file that holds `kind`'s own options, and its model; None: none.

    A kind declares `Options` (a Pydantic model) and may name its table `options_table`
    (default `options`); the built-in kinds keep the table names their files always used.
    """
    adapter = adapter_class(kind)
    model = getattr(adapter, "Options", None)
    if model is None:
        return None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"source kind {kind!r}: Options must be a Pydantic model")
    return str(getattr(adapter, "options_table", "options")), model
