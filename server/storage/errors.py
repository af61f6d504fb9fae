"""Database failures as the caller sees them: unavailable (retry) or a conflict."""

from __future__ import annotations

import sqlalchemy.exc as sa_exc

from server.rpc import RpcError

__all__ = [
    "DatabaseMissing",
    "DatabaseOpenError",
    "StorageUnavailable",
    "is_down",
    "is_missing_reference",
    "is_unique_violation",
]

_DOWN = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    sa_exc.DisconnectionError,
    OSError,  # refused, reset, unreachable, connect timeout
)


class StorageUnavailable(RpcError):
    """The database cannot be reached or is too busy: SERVICE_UNAVAILABLE, retryable."""

    def __init__(self) -> None:
        super().__init__(
            "SERVICE_UNAVAILABLE",
            "The database is unavailable; retry shortly",
            reason="database_unavailable",
            retryable=True,
        )


class DatabaseOpenError(Exception):
    """The database could not be opened at start-up; the message is one line: the cause."""


class DatabaseMissing(DatabaseOpenError):
    """A command that only reads found no roomrpc database where it looked."""


def is_down(exc: BaseException) -> bool:
    """True for failures of the database itself, as opposed to a bad statement."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _DOWN)


def is_unique_violation(exc: sa_exc.IntegrityError) -> bool:
    """True when an insert hit an existing key (SQLite and PostgreSQL alike)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505" or getattr(orig, "pgcode", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(orig)


def is_missing_reference(exc: sa_exc.IntegrityError) -> bool:
    """True when a write referred to a row that is gone (a foreign key failed)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23503" or getattr(orig, "pgcode", None) == "23503":
        return True
    return "FOREIGN KEY constraint failed" in str(orig)
