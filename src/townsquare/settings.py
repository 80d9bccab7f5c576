"""One typed configuration from `TOWNSQUARE_*` environment variables, validated at start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from townsquare.setting_files import sources as file_sources

DEFAULT_DATA_DIR = Path("var")
QueryItems = Mapping[str, str] | Sequence[tuple[str, str]]


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
    tiles_dir: Path | None = Field(
        default=None,
        description="Folder of the street basemap's PMTiles archives the app serves at "
        "/tiles/NAME.pmtiles (`townsquare tiles build` writes there); default DATA_DIR/tiles.",
    )
    tiles_samples: bool = Field(
        default=True,
        description="Also serve the bundled sample cities' basemaps (San Francisco, Seattle); "
        "an archive of the same name in TILES_DIR wins.",
    )
    map_center: tuple[float, float] = Field(
        default=(47.6062, -122.3321),
        description="Latitude, longitude the page opens on when no place is given.",
    )
    time_zone: str = Field(
        default="America/Los_Angeles",
        description="IANA time zone of the area served (the map centre's): times on pages "
        "before the browser rewrites them into the reader's zone, form times without a zone, "
        "the weekly digest's hour, and mails without a watch area's own zone.",
    )
    max_radius_m: float = Field(
        default=50_000, gt=0, description="Largest radius a feed query may ask for, in metres."
    )
    page_size_max: int = Field(
        default=200, ge=1, description="Largest `limit` a feed query may ask."
    )
    public_url: str = Field(
        default="",
        description="Base URL of the site as readers reach it: every absolute URL (feeds, "
        "links in mail, CAP) is made from it, never from a request's Host; empty: "
        "http://HOST:PORT.",
    )
    # --- behind a proxy, observability (opshttp) ---
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDR blocks of the reverse proxies in front "
        "of the server; a request from one of them is counted (rate limits, sign-in "
        "throttling, feedback) on the client address its `X-Forwarded-For` names. Empty: "
        "the connecting address is the client and `X-Forwarded-For` is ignored.",
    )
    otel_endpoint: str = Field(
        default="",
        description="Base URL of an OpenTelemetry collector's OTLP/HTTP receiver "
        "(`http://collector:4318`; spans go to its `/v1/traces`). Empty: no traces, unless "
        "the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` "
        "is set.",
    )
    otel_service_name: str = Field(
        default="townsquare",
        min_length=1,
        description="`service.name` of the traces, to tell nodes or sites apart in the collector.",
    )
    # --- end opshttp ---
    bus_url: str = Field(
        default="memory",
        description="`memory` (one process) or a NATS URL `nats://host:4222` (JetStream, "
        "several nodes).",
    )
    bus_stream: str = Field(
        default="TOWNSQUARE",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream stream name; subjects are its lower-case form + '.topic'.",
    )
    relay_interval_s: float = Field(
        default=0.2, gt=0, description="How often the outbox is relayed to the bus, seconds."
    )
    alert_senders: dict[str, str] = Field(
        default_factory=dict,
        description="Backend per channel kind (email, webpush, webhook, a third party's): the "
        "kind's own sender (smtp, webpush, webhook ...), `console` (log only) or `null` (drop); "
        "a kind not named uses its default (e-mail: console). Checked against the installed "
        "channel kinds when the alert engine starts.",
    )
    alert_rate_per_hour: int = Field(
        default=10, ge=1, description="Immediate alerts per subscription per hour; more wait."
    )
    alert_digest_interval_s: float = Field(
        default=3600,
        gt=0,
        description="Held (non-urgent, quiet-hours) alerts go out as one "
        "digest this often, seconds.",
    )
    alert_max_attempts: int = Field(
        default=6, ge=1, description="Attempts per delivery before it is dead-lettered."
    )
    alert_retry_base_s: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles each attempt, seconds."
    )
    smtp_host: str = Field(default="localhost", description="SMTP server for all e-mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str = Field(default="", description="SMTP login; empty: none.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade SMTP with STARTTLS (certificate verified)."
    )
    smtp_implicit_tls: bool = Field(
        default=False,
        description="Speak TLS from the first byte (SMTPS, usually port 465; certificate "
        "verified) instead of STARTTLS.",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA certificates the SMTP server's certificate is checked "
        "against, instead of the system's (a private CA); empty: the system's.",
    )
    smtp_from: str = Field(
        default="alerts@townsquare.invalid", description="From address of every e-mail."
    )
    vapid_private_key: SecretStr | None = Field(
        default=None, description="VAPID private key (from `townsquare keys vapid`)."
    )
    vapid_public_key: str = Field(
        default="", description="VAPID public key (base64url) handed to browsers."
    )
    vapid_subject: str = Field(
        default="mailto:operator@townsquare.invalid",
        description="VAPID `sub` claim: a mailto: or https: contact for push services.",
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="Webhook request timeout.")
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhooks to loopback and private addresses (tests, closed networks).",
    )
    stream_keepalive_s: float = Field(
        default=15.0, gt=0, description="Live stream comment sent this often when idle."
    )
    # harden (#15 item 9): live streams bounded per client address.
    stream_max_per_address: int = Field(
        default=16, ge=1, description="Live streams one client address may hold open at once."
    )
    stream_send_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="A live stream whose client takes longer to read one "
        "write (a slow or stalled reader) is closed; the browser reconnects and resumes.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret for CSRF tokens, per-home point seeds, two-factor sign-in "
        "and the key that seals secrets in the database (`townsquare keys secret`); empty: a "
        "random key kept in DATA_DIR/secret.key, which a NATS bus (several nodes) refuses.",
    )
    account_mail: str = Field(
        default="console",
        pattern=r"^(smtp|console|null)$",
        description="How account e-mail (verification, password reset) is sent: smtp, "
        "console (logged) or null.",
    )
    dev_outbox: bool = Field(
        default=False,
        description="Local demo only: keep the mail the console backend sends, print it whole "
        "in the log and list it at /dev/outbox. Works only with ACCOUNT_MAIL=console on a "
        "plain-http site bound to loopback; `make run` turns it on.",
    )
    signin_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins for one e-mail from one client address that hold that "
        "pair back (the owner elsewhere is not held back).",
    )
    signin_address_max_failures: int = Field(
        default=50, ge=1, description="Failed sign-ins from one client address that hold it back."
    )
    signin_lockout_minutes: float = Field(
        default=10,
        gt=0,
        description="The window failures are counted in, and how long a "
        "held-back pair or address waits, minutes.",
    )
    signup_per_hour: int = Field(
        default=20,
        ge=1,
        description="Sign-ups one client address may make an hour without being signed in.",
    )
    password_reset_per_hour: int = Field(
        default=10,
        ge=1,
        description="Password reset mails one client address may ask for an hour.",
    )
    anonymous_writes_per_hour: int = Field(
        default=60,
        ge=1,
        description="Other writes one client address may make an hour without being signed in "
        "(watch areas, e-mail and alert confirmations, new passwords from a link).",
    )
    api_token_days: float = Field(
        default=30, gt=0, description="Life of a personal API token from when it is made, days."
    )
    session_days: float = Field(
        default=14, gt=0, description="Longest life of a resident's session, days."
    )
    privileged_idle_minutes: float = Field(
        default=30, gt=0, description="Idle minutes after which a privileged session ends."
    )
    posts_per_hour: int = Field(
        default=5, ge=1, description="Posts one account may submit an hour."
    )
    feedback_anonymous_per_hour: int = Field(
        default=20, ge=1, description="Alerts one anonymous reader (IP, day) may mark an hour."
    )
    media_max_image_bytes: int = Field(
        default=20_000_000, ge=1, description="Largest photo upload, bytes."
    )
    media_max_video_bytes: int = Field(
        default=100_000_000, ge=1, description="Largest clip upload, bytes."
    )
    media_max_video_s: float = Field(default=60, gt=0, description="Longest clip, seconds.")
    media_storage: Literal["local", "database", "s3"] = Field(
        default="local",
        description="Where photos and clips are kept: `local` (DATA_DIR/media), `database` "
        "(chunks in the store the nodes share) or `s3` (an S3-compatible bucket).",
    )
    media_local_shared: bool = Field(
        default=False,
        description="Declare that DATA_DIR/media is one folder every node mounts (NFS, EFS): "
        "only then may several nodes keep media `local`.",
    )
    s3_bucket: str = Field(default="", description="Bucket of the `s3` media storage.")
    s3_prefix: str = Field(default="media/", description="Key prefix of media in the bucket.")
    s3_endpoint_url: str = Field(
        default="", description="S3-compatible endpoint (MinIO, Ceph ...); empty: AWS."
    )
    s3_region: str = Field(default="", description="Region of the bucket; empty: the default.")
    s3_access_key_id: str = Field(default="", description="S3 access key; empty: boto3's chain.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    media_max_pixels: int = Field(
        default=40_000_000, ge=1, description="Largest photo, pixels (decompression bombs)."
    )
    max_json_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body of a JSON API route, bytes (413 past it, counted as "
        "it streams).",
    )
    max_form_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest body of a form (URL-encoded or multipart) outside the upload "
        "routes, bytes.",
    )
    max_push_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest body pushed to `/api/v1/sources/{slug}/records`, bytes; a "
        "source's own `[push] max_bytes` may be lower. Upload routes take the media limits "
        "plus 64 KiB for the form around the file.",
    )
    retention_interval_s: float = Field(
        default=3600,
        ge=0,
        description="How often the server runs the retention job, seconds (at start, then "
        "every interval); 0 leaves it to `townsquare retention run`.",
    )
    weekly_digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "off"] = Field(
        default="mon",
        description="Weekday the server mails the weekly summary of each watch area; `off` "
        "leaves it to `townsquare weekly send`.",
    )
    weekly_digest_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="Hour of that day, in `time_zone`, the weekly summary is sent.",
    )
    media_job_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often an idle media job looks for uploads to process, seconds.",
    )
    media_jobs: int = Field(
        default=1,
        ge=0,
        le=8,
        description="Uploads this node processes at once (each uses about one core); 0 for none.",
    )
    footage_requests_per_day: int = Field(
        default=10, ge=1, description="Footage requests one agency may file in 24 hours."
    )
    footage_break_glass_minutes: int = Field(
        default=60, ge=1, le=240, description="How long an operator's break-glass access lasts."
    )
    footage_share_extend_days: int = Field(
        default=30,
        ge=0,
        le=30,
        description="Longest a resident may extend a share beyond its request's expiry, days.",
    )
    places_index: Path | None = Field(
        default=None,
        description="The place-search index (SQLite) built by `townsquare places build`; "
        "empty: DATA_DIR/places.sqlite.",
    )
    geocoder_url: str = Field(
        default="",
        description="Base URL of a Photon or Nominatim server to search places with instead "
        "of the local index; each query is sent there (a privacy trade-off). Empty: local.",
    )
    geocoder_api: Literal["photon", "nominatim"] = Field(
        default="photon", description="What speaks at GEOCODER_URL: `photon` or `nominatim`."
    )
    geocoder_timeout_s: float = Field(
        default=3.0, gt=0, description="How long a remote geocoder may take to answer, seconds."
    )
    log_level: str = Field(default="INFO", description="Log level of the structured JSON logs.")
    log_json: bool = Field(default=True, description="Write logs as one JSON object per line.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, the environment, then `TOWNSQUARE_<NAME>_FILE` (setting_files.py)."""
        return file_sources(settings_cls, init_settings, env_settings)

    @field_validator("smtp_implicit_tls")
    @classmethod
    def _one_tls_mode(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("smtp_starttls"):
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ip_network(part.strip(), strict=False)  # ValueError names the bad entry
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: give an IANA name") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    def site_url(self) -> str:
        """The public base URL without trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def absolute_url(self, path: str, query: QueryItems = ()) -> str:
        """`path` (and `query`) on the public URL: the one way an absolute URL is made.

        Never from a request's Host or X-Forwarded-Host, which the client chooses: a feed or
        link built from them would point wherever the client said, and a cache could keep it.
        """
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"not a path on this site: {path!r}")
        encoded = urlencode(query)
        return f"{self.site_url()}{path}{'?' + encoded if encoded else ''}"

    def resolved_database_url(self) -> str:
        """The database URL to connect to, defaulting to the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'townsquare.db').resolve()}"
