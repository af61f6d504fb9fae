"""The bus's interface and its in-process fan-out, shared by every implementation."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["RESYNC", "Bus", "Hub", "Message", "Overflow", "Prepare", "Subscription"]

RESYNC = "resync"
log = logging.getLogger("roomrpc.bus")
Prepare = Callable[["Message"], Awaitable[None]]


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a commit tells subscribers: a channel, a kind, ids. Read the rows for the rest."""

    c: str  # channel, e.g. "space:@demo"
    k: str  # kind, e.g. "intention", "member.removed"
    id: int = 0  # the row's id (an intention's, a space event's)
    b: str | None = None  # a being id the message is about


class Overflow(Exception):
    """The subscriber let more messages queue than its limit: it is cut off."""


class Subscription:
    """One subscriber's queue of one channel's messages, bounded."""

    __slots__ = ("_hub", "_overflowed", "_queue", "_waiter", "channel", "limit")

    def __init__(self, hub: Hub, channel: str, limit: int) -> None:
        self._hub = hub
        self.channel = channel
        self.limit = limit
        self._queue: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._overflowed = False

    def put(self, message: Message) -> None:
        """Queue ``message``; past the limit, drop the queue and cut the subscriber off."""
        if self._overflowed:
            return
        if len(self._queue) >= self.limit:
            self._overflowed = True
            self._queue.clear()
            self._hub.remove(self)
        else:
            self._queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Message:
        """The next message; raises ``Overflow`` once cut off."""
        while not self._queue:
            if self._overflowed:
                raise Overflow(self.channel)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def close(self) -> None:
        """Stop receiving."""
        self._hub.remove(self)


class Hub:
    """Channel -> subscriptions of this process; delivery is a loop of ``put``.

    ``prepare`` (optional) is awaited once per message that has subscribers here,
    before they get it: it reads the row they all need (say, into a shared
    cache), once, so they do not each wait for it. Messages stay in order.
    """

    def __init__(self) -> None:
        self._channels: dict[str, set[Subscription]] = {}
        self.prepare: Prepare | None = None
        self._inbox: deque[Message] = deque()
        self._draining: asyncio.Task[None] | None = None

    def subscribe(self, channel: str, *, limit: int) -> Subscription:
        """A new subscription to ``channel``; receives what is delivered from now on."""
        subscription = Subscription(self, channel, limit)
        self._channels.setdefault(channel, set()).add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (idempotent)."""
        subscribers = self._channels.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._channels[subscription.channel]

    def deliver(self, message: Message) -> None:
        """Hand ``message`` to every subscriber of its channel (prepared first, in order)."""
        if self._draining is None and (self.prepare is None or message.c not in self._channels):
            self._fan_out(message)
            return
        self._inbox.append(message)
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._inbox:
                message = self._inbox.popleft()
                if self.prepare is not None and message.c in self._channels:
                    try:
                        await self.prepare(message)
                    except Exception:  # the subscribers read the row themselves
                        log.warning("preparing bus message %s failed", message.k, exc_info=True)
                self._fan_out(message)
        finally:
            self._draining = None

    def _fan_out(self, message: Message) -> None:
        subscribers = self._channels.get(message.c)
        if subscribers:
            for subscription in tuple(subscribers):
                subscription.put(message)

    def resync(self) -> None:
        """Tell every subscriber that messages may have been missed."""
        for channel, subscribers in tuple(self._channels.items()):
            for subscription in tuple(subscribers):
                subscription.put(Message(channel, RESYNC))


class Bus(Protocol):
    """What procedures use; a Redis or NATS bus would implement the same three calls."""

    prepare: Prepare | None

    async def publish(self, conn: AsyncConnection, message: Message) -> None:
        """Deliver ``message`` when the transaction ``conn`` is in commits."""
        ...

    def subscribe(self, channel: str, *, limit: int) -> Subscription:
        """Receive ``channel``'s messages from now on."""
        ...

    async def close(self) -> None:
        """Stop listening; subscriptions receive nothing more."""
        ...
