"""One typed configuration from `TOWNSQUARE_*` environment variables, validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Every setting of the platform; each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="TOWNSQUARE_", extra="ignore")

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Folder for the embedded database, media and raw-record spool.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite at DATA_DIR/townsquare.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address `townsquare serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `townsquare serve` binds to.")
    tile_url: str = Field(
        default="",
        description="Leaflet tile URL template for the map; empty shows incidents on a plain "
        "background so no request leaves the machine.",
    )
    tile_attribution: str = Field(default="", description="Attribution shown for the tiles.")
    map_center: tuple[float, float] = Field(
        default=(47.6062, -122.3321),
        description="Latitude, longitude the page opens on when no place is given.",
    )
    max_radius_m: float = Field(
        default=50_000, gt=0, description="Largest radius a feed query may ask for, in metres."
    )
    page_size_max: int = Field(
        default=200, ge=1, description="Largest `limit` a feed query may ask."
    )
    log_level: str = Field(default="INFO", description="Log level of the structured JSON logs.")
    log_json: bool = Field(default=True, description="Write logs as one JSON object per line.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    def resolved_database_url(self) -> str:
        """The database URL to connect to, defaulting to the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'townsquare.db').resolve()}"
