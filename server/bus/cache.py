"""The row cache's side of the bus: writes announce the beings they change, every
instance drops what it read of them, and clears everything on RESYNC."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection

from server.bus._hub import RESYNC, Bus, Message, Overflow
from server.storage.cache import RowCache

__all__ = ["CHANNEL", "follow_invalidations", "publish_invalidation"]

CHANNEL = "cache"
_DROP = "drop"
_QUEUE = 100_000  # drops queued before the follower is cut off (then it clears and resubscribes)
log = logging.getLogger("roomrpc.bus")


async def publish_invalidation(bus: Bus, conn: AsyncConnection, being_ids: tuple[str, ...]) -> None:
    """Inside the writing transaction: every instance hears of it when it commits."""
    for being_id in dict.fromkeys(being_ids):
        await bus.publish(conn, Message(CHANNEL, _DROP, b=being_id))


async def follow_invalidations(bus: Bus, cache: RowCache) -> None:
    """Drop what the bus says changed; clear all when it may have missed messages. Runs
    until cancelled."""
    while True:
        subscription = bus.subscribe(CHANNEL, limit=_QUEUE)
        try:
            while True:
                message = await subscription.get()
                if message.k == RESYNC:
                    cache.clear()
                elif message.b is not None:
                    cache.drop((message.b,))
        except Overflow:
            log.warning("the row cache fell behind the bus: cleared")
            cache.clear()
        finally:
            subscription.close()
