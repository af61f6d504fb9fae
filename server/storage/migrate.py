"""Versioned schema changes with Alembic, applied at start-up under a lock."""

from __future__ import annotations

import zlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["MIGRATIONS", "alembic_config", "head", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, pointing at our scripts (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(conn: AsyncConnection, schema: str | None) -> str | None:
    """Bring the database to the newest revision; returns the revision it was at.

    Runs inside the caller's transaction. Two servers starting at once on one
    PostgreSQL database take turns on an advisory lock; on SQLite the write
    transaction (BEGIN IMMEDIATE) already serialises them.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"roomrpc-migrate:{schema or ''}".encode())
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        if schema:  # under the lock: IF NOT EXISTS alone races with a twin server
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return await conn.run_sync(_upgrade)


def _upgrade(connection: sa.Connection) -> str | None:
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(alembic_config(connection), "head")
    return before
