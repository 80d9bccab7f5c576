"""What running the server takes beyond its settings' types.

A bad setting is named in one line by its environment variable; and several nodes
refuse to start unless what they must share is shared (one secret key, one media storage),
since a node with its own would sign people in or keep clips no other node can read.
"""

from __future__ import annotations

from pydantic import ValidationError

from townsquare.setting_files import PREFIX
from townsquare.setting_files import ConfigurationError as ConfigurationError
from townsquare.settings import Settings


def explain(error: ValidationError) -> str:
    """The first problem of invalid settings as one line naming its environment variable."""
    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    variable = f"{PREFIX}{name.upper()}" if name in Settings.model_fields else name
    given = first.get("input")
    shown = "" if isinstance(given, dict) or name.endswith(("key", "password", "url")) else given
    suffix = f" (got {shown!r})" if shown not in ("", None) else ""
    return f"{variable}: {first['msg']}{suffix}"


def load() -> Settings:
    """The settings from the environment; ConfigurationError in one line when one is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(explain(exc)) from None


def several_nodes(settings: Settings) -> bool:
    """Whether this node shares its work with others: a NATS bus means it does."""
    return settings.bus_url != "memory"


def check_shared(settings: Settings) -> None:
    """Refuse to run several nodes that would not share a secret key and media storage."""
    if not several_nodes(settings):
        return
    why = f"several nodes (TOWNSQUARE_BUS_URL={settings.bus_url})"
    if settings.secret_key is None:
        raise ConfigurationError(
            f"TOWNSQUARE_SECRET_KEY: {why} need the same secret key on every node, or two-factor "
            "sign-in and sealed secrets break between them; make one with "
            "`townsquare keys secret` (or give TOWNSQUARE_SECRET_KEY_FILE)"
        )
    if settings.media_storage == "local" and not settings.media_local_shared:
        raise ConfigurationError(
            f"TOWNSQUARE_MEDIA_STORAGE: {why} cannot keep media in a local folder another node "
            "cannot read; choose `database` or `s3`, or set TOWNSQUARE_MEDIA_LOCAL_SHARED=true "
            "if DATA_DIR/media is one shared mount"
        )
    if settings.media_storage == "s3" and not settings.s3_bucket:
        raise ConfigurationError("TOWNSQUARE_S3_BUCKET: the `s3` media storage needs a bucket")
