"""Settings: environment variables (and an optional .env file), decoded once at start-up.

This is the only module that reads the environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from dotenv import dotenv_values

from server.rpc.params import issue_of

__all__ = ["Settings", "SettingsError", "load_settings"]

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
LiveKitUrl = Annotated[str, msgspec.Meta(pattern=r"^(wss?|https?)://[^\s/?#]+(/[^\s]*)?$(?!\n)")]
HttpUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/?#]+(/[^\s]*)?$(?!\n)")]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
SchemaName = Annotated[str, msgspec.Meta(pattern=r"^[a-z_][a-z0-9_]{0,62}$(?!\n)")]
Secret = Annotated[str, msgspec.Meta(min_length=32)]  # HS256 wants at least 256 bits
# A rate in the `limits` library's notation: "600/minute", "10 per second", "1000/hour".
Rate = Annotated[
    str,
    msgspec.Meta(pattern=r"^ *\d+ *(/|per) *(\d+ *)?(second|minute|hour|day)s? *$(?!\n)"),
]
StorageUri = Annotated[
    str, msgspec.Meta(pattern=r"^(memory|redis|rediss|redis\+unix)://[^\s]*$(?!\n)")
]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting; each field is read from the variable of its name in upper case."""

    host: str = "127.0.0.1"
    port: Port = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    access_log: bool = False
    uvloop: bool = True  # uvloop's event loop where installed (Linux, macOS); false: asyncio's
    metrics: bool = True  # GET /metrics in Prometheus's format
    # Proxies (addresses or networks, or *) whose X-Forwarded-For / Forwarded are believed.
    forwarded_allow_ips: tuple[str, ...] = ()
    otel_exporter_otlp_endpoint: HttpUrl | None = None  # traces, with the otel extra
    explorer: bool = True  # the API explorer page at GET /
    rpc_spec_examples: bool = False  # also serve the JSON-RPC spec's example procedures
    rpc_max_body_bytes: Positive = 1024 * 1024
    rpc_max_batch: Positive = 100
    rpc_call_timeout: Seconds = 30.0
    rpc_request_timeout: Seconds = 60.0  # a whole request, every call of a batch
    rpc_max_response_bytes: Positive = 8 * 1024 * 1024
    http_read_timeout: Seconds = 30.0  # to receive a whole request body
    cors_origins: tuple[str, ...] = ()
    # LiveKit: all of URL, key and secret, or none of them (media off).
    livekit_url: LiveKitUrl | None = None
    livekit_api_url: HttpUrl | None = None
    livekit_api_key: NonEmpty | None = None
    livekit_api_secret: NonEmpty | None = None
    livekit_call_timeout: Seconds = 5.0
    # Recordings (Egress): the file each recording is written to, a LiveKit egress path
    # template such as "recordings/{room_name}-{time}.mp4"; unset: recordings are off.
    livekit_recording_filepath: NonEmpty | None = None
    # How often rooms with presence are reconciled with LiveKit's ListParticipants.
    livekit_reconcile_seconds: Seconds = 60.0
    # --- storage and auth ---
    data_dir: str = "data"
    database_url: str | None = None
    database_schema: SchemaName | None = None
    database_pool_size: Positive = 10
    auth_secret: Secret | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_public_key: str | None = None  # PEM (or a path to one): RS256/ES256 tokens
    auth_cache_seconds: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    auth_leeway_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 30  # clock drift
    # Rows read on nearly every call, kept in memory (0: off); the bus keeps them right.
    cache_seconds: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    cache_max_entries: Positive = 10000
    # --- safe retries and fair use ---
    idempotency_ttl_seconds: Positive = 86400  # how long a stored answer replays
    idempotency_max_bytes: Positive = 256 * 1024  # larger answers are not kept
    idempotency_wait_seconds: Annotated[float, msgspec.Meta(ge=0)] = 5.0  # for a running twin
    rate_limits: bool = True
    rate_limit_storage: StorageUri = "memory://"
    rate_limit_reads: Rate = "6000/minute"
    rate_limit_writes: Rate = "1200/minute"
    rate_limit_livekit: Rate = "600/minute"
    rate_limit_tokens: Rate = "300/minute"
    rate_limit_sockets: Rate = "60/minute"  # WebSocket connections opened
    rate_limit_subscriptions: Rate = "600/minute"  # subscriptions started
    # --- live: subscriptions over WebSocket and SSE ---
    live_subscriptions_per_socket: Positive = 100
    live_sockets_per_being: Positive = 50
    live_queue_size: Positive = 256  # events queued per subscriber before it is cut off
    live_ping_seconds: Seconds = 15.0  # WebSocket ping and SSE ': ping' interval
    live_history_seconds: Seconds = 604800.0  # space events kept for resuming (7 days)
    # --- presence of our own: sessions kept by sockets ---
    presence_grace_seconds: Annotated[float, msgspec.Meta(ge=0)] = 60.0  # after a socket closes
    presence_ttl_seconds: Seconds = 30.0  # an instance silent this long loses its sessions
    presence_sessions_per_socket: Positive = 16  # rooms x devices one socket may hold

    def __repr__(self) -> str:
        """Every setting, secrets and database passwords masked: safe to log."""
        shown = (f"{f}={_masked(f, getattr(self, f))}" for f in self.__struct_fields__)
        return f"Settings({', '.join(shown)})"


def _masked(name: str, value: Any) -> str:
    if name in _SECRETS and value:
        return "'***'"
    if name == "database_url" and isinstance(value, str):
        return repr(_PASSWORD.sub(r"\1***@", value))
    return repr(value)


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


_SECRETS = frozenset({"auth_secret", "livekit_api_secret"})
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
_LISTS = frozenset(f.name for f in msgspec.structs.fields(Settings) if f.type == tuple[str, ...])


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Settings from ``environ`` (default: the process environment) over ``env_file``."""
    source: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        source.update(dotenv_values(env_file))
    source.update(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(Settings):
        value = source.get(field.name.upper())
        if value is None or value == "":
            continue
        raw[field.name] = _split(value) if field.name in _LISTS else value
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc, raw)) from None
    _check_livekit(settings)
    _check_database(settings)
    _check_proxies(settings)
    return settings


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _explain(exc: msgspec.ValidationError, raw: Mapping[str, Any]) -> str:
    issue = issue_of(exc)
    field = issue.path.removeprefix("$.").split(".")[0].split("[")[0]
    name = field.upper()
    if "missing required field" in issue.message:
        return f"missing setting {name}"
    if field in _SECRETS:  # never echo a secret, even a bad one
        return f"invalid setting {name}: {issue.message}"
    return f"invalid setting {name}={raw.get(field)!r}: {issue.message}"


_LIVEKIT_REQUIRED = ("livekit_url", "livekit_api_key", "livekit_api_secret")


def _check_livekit(settings: Settings) -> None:
    """LiveKit is configured whole or not at all, and gives up before the RPC call does."""
    given = [getattr(settings, name) is not None for name in _LIVEKIT_REQUIRED]
    if not any(given) and settings.livekit_api_url is None:
        return  # media off
    missing = [n.upper() for n, ok in zip(_LIVEKIT_REQUIRED, given, strict=True) if not ok]
    if missing:
        raise SettingsError(
            f"incomplete LiveKit settings: missing {', '.join(missing)} "
            "(set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or none for media off)"
        )
    if settings.livekit_call_timeout >= settings.rpc_call_timeout:
        raise SettingsError(
            f"invalid setting LIVEKIT_CALL_TIMEOUT={settings.livekit_call_timeout}: "
            f"must be below RPC_CALL_TIMEOUT={settings.rpc_call_timeout}"
        )


_DATABASE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_BACKENDS = frozenset({"sqlite", "postgresql", "postgres"})


def _check_database(settings: Settings) -> None:
    """``DATABASE_URL`` names SQLite or PostgreSQL (checked here, before anything opens)."""
    url = settings.database_url
    if url is None:
        return
    shown = _masked("database_url", url)
    match = _DATABASE.match(url)
    if match is None:
        raise SettingsError(
            f"invalid setting DATABASE_URL={shown}: not a database URL "
            "(postgresql://user@host/db or sqlite:///path/file.db)"
        )
    backend = match["scheme"].split("+")[0].lower()
    if backend not in _BACKENDS:
        raise SettingsError(
            f"invalid setting DATABASE_URL={shown}: unsupported database {backend!r} "
            "(roomrpc runs on sqlite or postgresql)"
        )


def _check_proxies(settings: Settings) -> None:
    for entry in settings.forwarded_allow_ips:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"invalid setting FORWARDED_ALLOW_IPS: {entry!r} is not an address or a network"
                " (use 10.0.0.1, 10.0.0.0/8 or *)"
            ) from None
