"""Operator settings: every `SENDMAKO_*` variable, typed and validated at start-up.

Only `load_settings()` (called by the CLI) reads the environment and `.env`; the rest of the
code receives a `Settings` value, so each test builds its own without touching `os.environ`.
Nested groups use a double underscore: `SENDMAKO_SANDBOX__RECEIPT_READ_SECONDS=2`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

KNOWN_ENGINES = ("neonize", "sandbox")

# WhatsApp serves media from mmg.whatsapp.net and regional media-*.cdn.whatsapp.net hosts.
DEFAULT_MEDIA_HOSTS = ("mmg.whatsapp.net", "*.whatsapp.net")

CsvList = Annotated[list[str], NoDecode]

MIN_SECRET_LENGTH = 32


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SandboxSettings(BaseModel):
    """The simulated WhatsApp network (`engines/sandbox`)."""

    qr_rotate_seconds: float = Field(20.0, gt=0, description="how often a waiting QR changes")
    reconnect_seconds: float = Field(
        3.0, ge=0, description="delay before a simulated lost connection comes back"
    )
    receipt_delivered_seconds: float = Field(1.0, ge=0, description="send -> delivered receipt")
    receipt_read_seconds: float = Field(3.0, ge=0, description="send -> read receipt")
    not_on_whatsapp_suffixes: CsvList = Field(
        default_factory=lambda: ["0000"],
        description="numbers ending with one of these are not on the simulated WhatsApp",
    )
    invite_required_suffixes: CsvList = Field(
        default_factory=lambda: ["9999"],
        description=(
            "numbers ending with one of these have privacy settings that let nobody add them "
            "to a group: adding them fails with 403, they join only with an invite link"
        ),
    )

    _split = field_validator("not_on_whatsapp_suffixes", "invite_required_suffixes", mode="before")(
        _split_csv
    )


class ClusterSettings(BaseModel):
    """Several nodes (SENDMAKO_REDIS_URL with PostgreSQL; README "Running several nodes")."""

    redis_prefix: str = Field(
        "sendmako",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="the start of every Redis key and channel: one per cluster on a Redis",
    )
    session_lease_seconds: float = Field(
        15.0,
        ge=2,
        le=300,
        description=(
            "a node's hold on each of its sessions, renewed every placement round: a dead "
            "node's sessions are taken over once it runs out"
        ),
    )
    placement_seconds: float = Field(
        3.0,
        gt=0,
        le=60,
        description="how often each node renews its sessions and takes its share",
    )
    node_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="this node's name (default: its host and a digest of its data directory)",
    )

    @model_validator(mode="after")
    def _renewed_in_time(self) -> ClusterSettings:
        if self.placement_seconds * 3 > self.session_lease_seconds:
            raise ValueError(
                "SENDMAKO_CLUSTER__PLACEMENT_SECONDS must be at most a third of "
                "SENDMAKO_CLUSTER__SESSION_LEASE_SECONDS: a lease must survive a missed round"
            )
        return self


class MetricsSettings(BaseModel):
    """GET /metrics for Prometheus (README "Monitoring")."""

    listen: str | None = Field(
        None,
        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        description=(
            "host:port of a second listener that serves /metrics to anyone who reaches it "
            "(bind it where only the scraper can); /metrics on the API port always needs "
            "an admin key"
        ),
    )


class EventsSettings(BaseModel):
    """GET /api/events, the event stream (README "Events without a public URL")."""

    heartbeat_seconds: float = Field(
        15.0, gt=0, le=300, description="a comment line this often keeps proxies from closing"
    )
    stall_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="a client that takes nothing for this long is dropped (it may resume)",
    )
    retention_hours: float = Field(
        72.0, gt=0, le=24 * 365, description="how long an event can be resumed from"
    )
    batch: int = Field(200, ge=1, le=10_000, description="events read from the database at once")


class NeonizeSettings(BaseModel):
    """The real WhatsApp engine (`engines/neonize`): one worker process per session."""

    proxy: str | None = Field(None, description="socks5:// or http:// proxy for WhatsApp traffic")
    qr_timeout_seconds: float = Field(
        165.0, gt=0, description="a QR login nobody scans is restarted after this long"
    )
    store_url: str | None = Field(
        None,
        description=(
            "lib/pq URL of the device store when Sendmako runs on PostgreSQL "
            "(default: derived from SENDMAKO_DATABASE_URL)"
        ),
    )
    restart_initial_seconds: float = Field(
        2.0, gt=0, description="first delay before a failed or crashed worker starts again"
    )
    restart_max_seconds: float = Field(
        120.0, gt=0, description="the restart delay doubles up to this"
    )
    heartbeat_seconds: float = Field(5.0, gt=0, description="how often workers are pinged")
    heartbeat_timeout_seconds: float = Field(
        15.0, gt=0, description="a worker silent this long is killed and restarted"
    )
    stop_grace_seconds: float = Field(
        2.0, gt=0, le=10, description="a stopping worker is killed after this long"
    )
    parallel_starts: int = Field(
        4, ge=1, description="workers starting at once (each loads Go: CPU-bound)"
    )
    memory_reserve_mib: float = Field(
        1024.0,
        ge=0,
        description=(
            "memory kept free for everything but workers (the server, PostgreSQL, page "
            "cache): new sessions are refused (503 node_full) rather than eat into it"
        ),
    )
    worker_memory_mib: float = Field(
        20.0,
        gt=0,
        description="memory a worker is assumed to take until running workers are measured",
    )
    starts_per_second: float = Field(
        20.0,
        gt=0,
        description=(
            "workers begun per second at most: a restart with many numbers is a steady "
            "stream of logins, not a storm"
        ),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SENDMAKO_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    # Stored messages (chats and history) older than this are deleted, in small batches.
    message_retention_days: int = Field(90, ge=1, le=36500)
    # Several nodes (DESIGN.md "Growing past one machine"): with PostgreSQL, a Redis URL
    # lets any number of `sendmako serve` share the work. Unset: one node per database.
    redis_url: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str | None = None
    engines: CsvList = Field(default_factory=lambda: ["neonize", "sandbox"])
    default_engine: str = "neonize"
    allow_private_hosts: CsvList = Field(default_factory=list)
    # Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded headers
    # name the client: the login throttle counts each client under its own address.
    trusted_proxies: CsvList = Field(default_factory=list)
    media_hosts: CsvList = Field(default_factory=lambda: list(DEFAULT_MEDIA_HOSTS))
    default_plan: str = "free"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Every request is logged at DEBUG; failures, and requests slower than this, at INFO.
    slow_request_ms: int = Field(1000, ge=1)
    # Largest request body for most endpoints; send endpoints allow inline media on top.
    max_body_bytes: int = Field(1 << 20, ge=1024)
    # A request's head (request line and headers), bounded before the app sees it
    # (cli/serving.py): its largest size, how long it may take to arrive (from its first
    # byte; from the connection's opening for the first request), and how long a refused
    # client may still send before its connection is closed.
    max_head_bytes: int = Field(64 * 1024, ge=4096, le=1 << 20)
    head_timeout_seconds: float = Field(10.0, gt=0, le=300)
    refusal_linger_seconds: float = Field(2.0, ge=0, le=60)
    # A request body (api/middleware.py): the longest wait for its next piece, and, once
    # the grace has passed, the lowest average rate (bytes per second of waiting; 0: none).
    body_gap_seconds: float = Field(30.0, gt=0, le=600)
    body_min_rate: int = Field(1024, ge=0, le=1 << 30)
    body_rate_grace_seconds: float = Field(10.0, ge=0, le=600)
    # Open connections served at once (more are answered 503), connections waiting to be
    # accepted, and how long an idle keep-alive connection stays open (cli/serving.py).
    max_connections: int = Field(1000, ge=1, le=1_000_000)
    backlog: int = Field(2048, ge=1, le=65535)
    keep_alive_seconds: float = Field(5.0, gt=0, le=300)
    # A session that stops (deleted, or the server shutting down) waits this long for a
    # message already handed to WhatsApp, then tells its sender the outcome is unknown.
    send_close_grace_seconds: float = Field(10.0, ge=0, le=300)
    # Changes to the careful default send policy of every session that has not set its own
    # (JSON: SENDMAKO_SEND_POLICY='{"per_day": 300}'; README "Not getting banned").
    send_policy: dict[str, Any] = Field(default_factory=dict)
    # The watchdog (sessions/watchdog.py): a connected session that heard nothing from
    # WhatsApp for this long is probed, and reconnected when the probe gets no answer, at
    # most this many times an hour.
    watchdog_silence_seconds: float = Field(1_800.0, ge=60, le=86_400)
    watchdog_max_reconnects_per_hour: int = Field(3, ge=0, le=60)
    # First start with an empty database: create this admin and print a first API key.
    admin_email: str = "admin@localhost"
    # Signs the dashboard's session cookies. Unset: a random key is generated on the first
    # start and stored in the database, for every node (dashboard/secret.py).
    secret_key: SecretStr | None = None
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    neonize: NeonizeSettings = Field(default_factory=NeonizeSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)

    _split = field_validator(
        "engines", "allow_private_hosts", "media_hosts", "trusted_proxies", mode="before"
    )(_split_csv)

    @field_validator("engines")
    @classmethod
    def _known_engines(cls, engines: list[str]) -> list[str]:
        unknown = [name for name in engines if name not in KNOWN_ENGINES]
        if unknown:
            raise ValueError(
                f"unknown engine {unknown[0]!r}; choose from {', '.join(KNOWN_ENGINES)}"
            )
        if not engines:
            raise ValueError("enable at least one engine")
        return list(dict.fromkeys(engines))

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None or secret.get_secret_value() == "":
            return None
        if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"use at least {MIN_SECRET_LENGTH} random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or leave it unset to have one generated and stored in the database"
            )
        return secret

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is None or url.get_secret_value() == "":
            return None
        if not url.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://[:password@]host:6379/0 (or rediss:// for TLS)")
        return url

    @field_validator("allow_private_hosts")
    @classmethod
    def _valid_hosts(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if "/" in entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not a valid CIDR range") from exc
        return entries

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"{entry!r} is not an IP address or CIDR range (e.g. 127.0.0.1,10.0.0.0/8)"
                ) from exc
        return entries

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        if url is None or url == "":
            return None
        if url.startswith(("postgres://", "postgresql://")):
            # Accept the URL libpq users know; SQLAlchemy needs the async driver named.
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(
                "use postgresql+asyncpg://user@host/db or sqlite+aiosqlite:///path/to/file.db"
            )
        return url

    @model_validator(mode="after")
    def _default_engine_enabled(self) -> Settings:
        if self.default_engine not in self.engines:
            raise ValueError(
                f"SENDMAKO_DEFAULT_ENGINE={self.default_engine!r} is not in SENDMAKO_ENGINES "
                f"({','.join(self.engines)})"
            )
        return self

    @model_validator(mode="after")
    def _redis_needs_postgres(self) -> Settings:
        if self.redis_url is not None and not self.effective_database_url.startswith("postgresql"):
            raise ValueError(
                "SENDMAKO_REDIS_URL is for several nodes, which share a PostgreSQL database: "
                "set SENDMAKO_DATABASE_URL=postgresql+asyncpg://..., or unset "
                "SENDMAKO_REDIS_URL to run one node on SQLite"
            )
        return self

    @property
    def clustered(self) -> bool:
        """Several nodes may share the database: PostgreSQL and Redis are both set."""
        return self.redis_url is not None and self.effective_database_url.startswith("postgresql")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'sendmako.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"


def load_settings() -> Settings:
    """Read the environment and `./.env`: the one place the process environment is consulted."""
    return Settings(_env_file=".env")
