"""The in-process bus: one server, any database (the default on SQLite)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from server.bus._hub import Hub, Message
from server.storage import after_commit

__all__ = ["LocalBus"]


class LocalBus(Hub):
    """Delivers to this process's subscribers right after the writing transaction commits."""

    async def publish(self, conn: AsyncConnection, message: Message) -> None:
        """Deliver ``message`` once ``conn``'s transaction commits (never if it rolls back)."""
        after_commit(conn, lambda: self.deliver(message))

    async def close(self) -> None:
        """Nothing to release."""
