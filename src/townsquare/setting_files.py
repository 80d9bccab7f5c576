"""Settings read from files: `TOWNSQUARE_<NAME>_FILE=/run/secrets/x` gives a setting the
file's text, as Docker and Kubernetes mount secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

PREFIX = "TOWNSQUARE_"


class ConfigurationError(ValueError):
    """A setting, or a combination of settings, the server cannot run with; one line."""


class FileVariants(PydanticBaseSettingsSource):
    """`TOWNSQUARE_<NAME>_FILE=/run/secrets/x` gives a setting the file's text (trimmed)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads every field at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """The settings whose `_FILE` variable is set, read from their files."""
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            variable = f"{PREFIX}{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if not path:
                continue
            if variable in os.environ:
                raise ConfigurationError(f"{variable} and {variable}_FILE are both set; keep one")
            try:
                found[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"{variable}_FILE: cannot read {path}: {exc.strerror}"
                ) from exc
        return found


def sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Arguments first, then the environment, then `_FILE` variables."""
    return init_settings, env_settings, FileVariants(settings_cls)
