"""Named plugins of one kind: the classes an entry-point group provides, plus any registered here.

Built-in plugins (source kinds, alert channels) are declared as entry points in pyproject.toml,
exactly as a third-party package would declare its own, and every one of them goes through
`Registry.register`: the entry points on first use, an in-process plugin (an application's own
class, a test's) when its code calls it. So there is one lookup path and no list to keep in
sync (simonw/datasette `datasette/plugins.py`).
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from townsquare.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """The plugins of entry-point group `group`, by name; loaded on first use, not at import."""

    def __init__(self, group: str, what: str, plural: str) -> None:
        self.group = group
        self.what = what
        """What a plugin is, for error messages ("source kind", "channel kind")."""
        self.plural = plural
        """How the error message names the known ones ("kinds")."""
        self._found: dict[str, T] = {}
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, name: str, plugin: T) -> T:
        """Make `plugin` known as `name`; the same name registered twice is an error."""
        with self._lock:
            known = self._found.get(name)
            if known is not None and known is not plugin:
                raise ConfigError(f"{self.what} {name!r} is registered twice")
            self._found[name] = plugin
        return plugin

    def unregister(self, name: str) -> None:
        """Forget `name` (a test's plugin, once the test is over); unknown names are ignored."""
        with self._lock:
            self._found.pop(name, None)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._plugins())

    def get(self, name: str) -> T:
        """The plugin called `name`; ConfigError lists the known names when there is none."""
        found = self._plugins().get(name)
        if found is None:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown {self.what} {name!r}; known {self.plural}: {known}")
        return found

    def items(self) -> list[tuple[str, T]]:
        """Every (name, plugin), sorted by name."""
        plugins = self._plugins()
        return [(name, plugins[name]) for name in sorted(plugins)]

    def _plugins(self) -> dict[str, T]:
        with self._lock:
            if not self._loaded:
                for point in entry_points(group=self.group):
                    if point.name not in self._found:
                        self.register(point.name, point.load())
                self._loaded = True
            return dict(self._found)
