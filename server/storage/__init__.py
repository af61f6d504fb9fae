"""Storage: beings, memberships and intentions on SQLite (default) or PostgreSQL.

``Storage`` owns the engine and its transactions; ``beings``, ``memberships``
and ``intentions`` hold the queries, each a function of a connection::

    async with ctx.deps.storage.read() as conn:
        role = await memberships.role_of(conn, "@demo-space", "@alice")
"""

from server.storage import (
    beings,
    idempotency,
    intentions,
    memberships,
    presence,
    recordings,
    revocations,
    space_events,
)
from server.storage.engine import describe_database
from server.storage.errors import DatabaseMissing, DatabaseOpenError, StorageUnavailable
from server.storage.store import Storage, after_commit

__all__ = [
    "DatabaseMissing",
    "DatabaseOpenError",
    "Storage",
    "StorageUnavailable",
    "after_commit",
    "beings",
    "describe_database",
    "idempotency",
    "intentions",
    "memberships",
    "presence",
    "recordings",
    "revocations",
    "space_events",
]
