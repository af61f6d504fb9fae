"""Database failures as the caller sees them: unavailable (retry) or a conflict."""

from __future__ import annotations

import sqlalchemy.exc as sa_exc

from server.rpc import RpcError

__all__ = [
    "DatabaseMissing",
    "DatabaseOpenError",
    "StorageUnavailable",
    "is_down",
    "is_invalid_text",
    "is_missing_reference",
    "is_unique_violation",
    "sqlstate",
]

_DOWN = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    sa_exc.DisconnectionError,
    OSError,  # refused, reset, unreachable, connect timeout (TimeoutError is one)
    ConnectionError,
)
# SQLSTATEs of a database that is down, full or going away, by class: 08 connection
# exception, 53 insufficient resources (53300 too many connections), 57P0x operator
# intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
# 57P04 database dropped, 57P05 idle session timeout); and the two a retry resolves:
# 40001 serialization failure, 40P01 deadlock detected.
_DOWN_CLASSES = ("08", "53")
_DOWN_STATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05", "40001", "40P01"})


class StorageUnavailable(RpcError):
    """The database cannot be reached or is too busy: SERVICE_UNAVAILABLE, retryable."""

    def __init__(self) -> None:
        super().__init__(
            "SERVICE_UNAVAILABLE",
            "The database is unavailable; retry shortly",
            reason="database_unavailable",
            retryable=True,
        )


class DatabaseOpenError(StorageUnavailable):
    """The database could not be opened at start-up; ``cause`` (and ``str()``) is one line."""

    def __init__(self, cause: str) -> None:
        super().__init__()
        self.cause = cause

    def __str__(self) -> str:
        return self.cause


class DatabaseMissing(DatabaseOpenError):
    """A command that only reads found no roomrpc database where it looked."""


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE behind ``exc``: its own, its DBAPI error's, or its cause's."""
    seen: BaseException | None = exc
    for _ in range(4):  # SQLAlchemy's error, the adapted DBAPI error, the driver's
        if seen is None:
            return None
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and state:
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def is_down(exc: BaseException) -> bool:
    """True for failures of the database itself (down, full, shutting down, or a
    conflict a retry resolves), as opposed to a bad statement."""
    state = sqlstate(exc)
    if state is not None and (state[:2] in _DOWN_CLASSES or state in _DOWN_STATES):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _DOWN) or isinstance(getattr(exc, "orig", None), _DOWN)


# 22021 character not in repertoire (a NUL in text), 22P05 untranslatable character
# (a \u0000 in jsonb): the caller's data, not the database, is at fault.
_BAD_TEXT = frozenset({"22021", "22P05"})


def is_invalid_text(exc: BaseException) -> bool:
    """True when the database refused a value's characters (PostgreSQL: NUL in text)."""
    return sqlstate(exc) in _BAD_TEXT


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
