"""The PostgreSQL bus: NOTIFY in the writing transaction, one LISTEN connection per instance.

PostgreSQL delivers a NOTIFY only when its transaction commits, and to every
session listening on the channel, in commit order: events exist exactly when
their write committed, on every instance. The listener is one asyncpg
connection; when it drops, it reconnects by itself (backing off) and then tells
every subscriber to resync from the rows, which covers what was sent meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.bus._hub import Hub, Message
from server.bus.local import LocalBus
from server.settings import Settings
from server.storage.engine import database_url

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresBus", "open_bus"]

log = logging.getLogger("roomrpc.bus")
_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")
_decode = msgspec.json.Decoder(Message).decode
_encode = msgspec.json.Encoder().encode
_BACKOFF = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class PostgresBus(Hub):
    """LISTEN/NOTIFY on one channel per database schema; messages carry their own channel."""

    def __init__(self, dsn: str, channel: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._channel = channel
        self._listener: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and LISTEN before anyone subscribes; then keep the listener up."""
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="roomrpc-bus-listener")

    async def publish(self, conn: AsyncConnection, message: Message) -> None:
        """NOTIFY inside ``conn``'s transaction: delivered when (and if) it commits."""
        payload = _encode(message).decode()
        await conn.execute(_NOTIFY, {"channel": self._channel, "payload": payload})

    async def close(self) -> None:
        """Stop the supervisor and the listener."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()

    async def _connect(self) -> None:
        import asyncpg  # ~2 MiB resident: imported on PostgreSQL only, not on SQLite

        listener: asyncpg.Connection = await asyncpg.connect(self._dsn)
        listener.add_termination_listener(self._on_terminated)
        await listener.add_listener(self._channel, self._on_notify)
        self._listener = listener
        self._lost.clear()

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            message = _decode(payload)
        except msgspec.ValidationError:
            log.warning("ignored a malformed bus message on %s", channel)
            return
        self.deliver(message)

    def _on_terminated(self, connection: Any) -> None:
        self._lost.set()

    async def _supervise(self) -> None:
        """Reconnect the listener whenever it drops, then resync every subscriber."""
        import asyncpg  # see _connect

        while True:
            await self._lost.wait()
            log.warning("bus listener lost; reconnecting")
            attempt = 0
            while True:
                try:
                    await self._connect()
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
                    log.warning("bus listener: %s; retrying in %g s", type(exc).__name__, delay)
                    attempt += 1
                    await asyncio.sleep(delay)
            log.info("bus listener reconnected")
            self.resync()

    def drop_listener(self) -> None:
        """Cut the LISTEN connection (what a network fault does); it reconnects by itself."""
        if self._listener is not None:
            self._listener.terminate()


async def open_bus(settings: Settings) -> LocalBus | PostgresBus:
    """The bus for the configured database: LISTEN/NOTIFY on PostgreSQL, else in-process."""
    url = database_url(settings)
    if url.get_backend_name() != "postgresql":
        return LocalBus()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = settings.database_schema or "public"
    bus = PostgresBus(dsn, f"roomrpc_{schema}"[:63])
    await bus.start()
    return bus
