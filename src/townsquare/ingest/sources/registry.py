"""Adapters by kind, found through the `townsquare.sources` entry-point group.

Built-in adapters register there too (pyproject.toml), exactly as a third-party package
would, so there is one lookup path and no list to keep in sync.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from townsquare.errors import ConfigError
from townsquare.ingest.sources.base import SourceAdapter

GROUP = "townsquare.sources"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_kinds() -> list[str]:
    """Every source kind an installed package provides, sorted."""
    return sorted(_entry_points())


def adapter_for(kind: str) -> SourceAdapter:
    """A new adapter for `kind`; ConfigError lists the known kinds when there is none."""
    found = _entry_points().get(kind)
    if found is None:
        raise ConfigError(
            f"unknown source kind {kind!r}; known kinds: {', '.join(known_kinds()) or 'none'}"
        )
    factory = found.load()
    adapter: SourceAdapter = factory()
    if getattr(adapter, "kind", None) != kind or not callable(getattr(adapter, "fetch", None)):
        raise ConfigError(f"entry point {found.value!r} does not provide a {kind!r} adapter")
    return adapter
