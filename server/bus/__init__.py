"""The event bus: what committed writes tell live subscribers, on this instance and others.

``publish(conn, message)`` is called inside the writing transaction: the message
is delivered exactly when that transaction commits (never for a rollback).
``subscribe(channel, limit=n)`` returns a ``Subscription`` whose ``get()`` gives
the channel's messages in commit order; past ``n`` undelivered messages it
raises ``Overflow`` (the subscriber is cut off, memory does not grow). A
``resync`` message means some messages may have been missed (the listener
reconnected): re-read the rows. Messages are small (a kind and ids): subscribers
read the rows, the database stays the source of truth.

``LocalBus`` serves one process (SQLite); ``PostgresBus`` uses LISTEN/NOTIFY so
every instance on one PostgreSQL database hears every commit.
"""

from server.bus._hub import RESYNC, Bus, Hub, Message, Overflow, Prepare, Subscription
from server.bus.cache import follow_invalidations, publish_invalidation
from server.bus.local import LocalBus
from server.bus.postgres import PostgresBus, open_bus

__all__ = [
    "RESYNC",
    "Bus",
    "Hub",
    "LocalBus",
    "Message",
    "Overflow",
    "PostgresBus",
    "Prepare",
    "Subscription",
    "follow_invalidations",
    "open_bus",
    "publish_invalidation",
]
