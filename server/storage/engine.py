"""The database URL and the async engine: SQLite (WAL) by default, PostgreSQL on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.settings import Settings

__all__ = [
    "DB_FILE",
    "MODE",
    "create_engine",
    "create_sqlite_reader",
    "database_url",
    "describe_database",
    "sqlite_path",
]

DB_FILE = "roomrpc.db"
MODE = "roomrpc_mode"  # execution option: "read" (no transaction) or "write"
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ALIASES = {"postgres": "postgresql"}
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never wait for the writer
    "PRAGMA synchronous=NORMAL",  # durable at each checkpoint, safe with WAL
    "PRAGMA foreign_keys=ON",
)


def sqlite_path(settings: Settings) -> Path | None:
    """The embedded database's file (None when ``DATABASE_URL`` names a server)."""
    if settings.database_url is None:
        return Path(settings.data_dir).resolve() / DB_FILE
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve()
    return None


def describe_database(settings: Settings) -> str:
    """The database in words, its password masked: for logs and the commands' first line."""
    if settings.database_url is None:
        return f"SQLite {sqlite_path(settings)} (DATA_DIR={settings.data_dir})"
    url = sa.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if settings.database_schema:
        shown += f" (schema {settings.database_schema})"
    return f"{'SQLite' if url.get_backend_name() == 'sqlite' else 'PostgreSQL'} {shown}"


def database_url(settings: Settings, *, create: bool = True) -> sa.URL:
    """``DATABASE_URL`` with its async driver, or the SQLite file in the data folder."""
    if settings.database_url is None:
        path = Path(settings.data_dir).resolve() / DB_FILE
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        return sa.URL.create("sqlite+aiosqlite", database=str(path))
    try:
        url = sa.make_url(settings.database_url)
    except sa.exc.ArgumentError:
        raise ValueError("DATABASE_URL is not a database URL") from None
    backend = url.get_backend_name()
    backend = _ALIASES.get(backend, backend)
    if backend not in _DRIVERS:
        raise ValueError(f"DATABASE_URL: unsupported database {backend!r} (sqlite, postgresql)")
    return url.set(drivername=_DRIVERS[backend])


def create_engine(settings: Settings, *, create: bool = True) -> AsyncEngine:
    """An engine whose connections are set up for roomrpc's transactions."""
    url = database_url(settings, create=create)
    common: dict[str, Any] = {
        "json_serializer": lambda value: msgspec.json.encode(value).decode(),
        "json_deserializer": msgspec.json.decode,
    }
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, pool_size=settings.database_pool_size, **common)
        # A writer waits for the write lock no longer than its call may run.
        _sqlite_transactions(engine, busy_ms=int(settings.rpc_call_timeout * 1000))
        return engine
    server_settings = {"application_name": "roomrpc"}
    if settings.database_schema:
        server_settings["search_path"] = settings.database_schema
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=5,
        connect_args={"server_settings": server_settings, "timeout": 5},
        **common,
    )


def create_sqlite_reader(url: sa.URL, pool_size: int) -> sa.Engine:
    """A synchronous engine on the same SQLite file, for reads on the event loop's thread.

    Measured: a point read costs ~10 µs in SQLite itself but over 1 ms through
    aiosqlite, whose every step is a round trip to its worker thread. With WAL
    a reader never waits for a writer, so a read finishes at once: it does not
    block the loop, and the call completes without ever suspending.
    """
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        pool_size=pool_size,
        json_serializer=lambda value: msgspec.json.encode(value).decode(),
        json_deserializer=msgspec.json.decode,
    )

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")  # a reader never writes
        dbapi_connection.execute("PRAGMA busy_timeout=1000")

    return engine


def _sqlite_transactions(engine: AsyncEngine, *, busy_ms: int) -> None:
    """SQLAlchemy's documented recipe: we emit BEGIN ourselves, IMMEDIATE for writes.

    A writer takes the write lock when it begins, so two writers queue on
    ``busy_timeout`` instead of deadlocking on a lock upgrade; a read runs
    outside any transaction (one statement is its own snapshot).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(MODE)
        if mode != "read":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")
