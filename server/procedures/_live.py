"""What the subscription handlers share: channels, resume points, cut-offs, shared reads."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncConnection

from schema.errors import Issue
from schema.intention import Intention
from schema.space import SpaceEventType
from server.bus import Bus, Message, Overflow, Subscription
from server.domain.access import now
from server.rpc import RpcError
from server.storage import Storage, intentions, space_events

__all__ = [
    "SharedReads",
    "being_channel",
    "event_after",
    "next_message",
    "record_space_event",
    "space_channel",
]

_KEEP = 1024  # recent rows kept per process: one read per event, however many subscribers


def space_channel(space_id: str) -> str:
    """The bus channel of a space: its intentions, its changes, its membership."""
    return f"space:{space_id}"


def being_channel(being_id: str) -> str:
    """The bus channel of a being's own memberships (``space.watchMine``)."""
    return f"being:{being_id}"


async def record_space_event(
    bus: Bus,
    conn: AsyncConnection,
    space_id: str,
    kind: SpaceEventType,
    being_id: str | None = None,
    role: str | None = None,
    *,
    tell_space: bool = True,
) -> None:
    """Record a change of a space in the writing transaction and tell its subscribers
    (those of the space unless ``tell_space`` is false; a member's, of its membership)."""
    event_id = await space_events.insert(
        conn, space_id, kind, now=now(), being_id=being_id, role=role
    )
    if tell_space:
        await bus.publish(conn, Message(space_channel(space_id), kind, event_id, being_id))
    if being_id is not None and kind in space_events.MEMBERSHIP:
        await bus.publish(conn, Message(being_channel(being_id), kind, event_id, being_id))


def event_after(last_event_id: str | None) -> int | None:
    """A numeric event id to resume after; INVALID_PARAMS when it is not one of ours."""
    if last_event_id is None:
        return None
    if not last_event_id.isdigit() or len(last_event_id) > 18:
        issue = Issue(path="$.lastEventId", message="Expected an event id this server sent")
        raise RpcError("INVALID_PARAMS", issues=[issue])
    return int(last_event_id)


async def next_message(subscription: Subscription) -> Message:
    """The subscription's next bus message; TOO_MANY_REQUESTS once it fell too far behind."""
    try:
        return await subscription.get()
    except Overflow:
        message = (
            f"More than {subscription.limit} events waited for this subscriber: "
            "subscribe again with lastEventId"
        )
        raise RpcError(
            "TOO_MANY_REQUESTS", message, reason="slow_consumer", retryable=True
        ) from None


class SharedReads:
    """Rows that every subscriber of this process reads once (single flight, recent only)."""

    def __init__(self) -> None:
        self._intentions: OrderedDict[int, asyncio.Future[Intention | None]] = OrderedDict()

    def remember(self, said: Intention) -> None:
        """Keep a row this process just committed: its subscribers here need not read it."""
        known = asyncio.get_running_loop().create_future()
        known.set_result(said)
        self._intentions[said.id] = known
        if len(self._intentions) > _KEEP:
            self._intentions.popitem(last=False)

    async def prepare(self, storage: Storage, message: Message) -> None:
        """Read the row a bus message announces, once, before its subscribers ask for it."""
        if message.k == "intention":
            await self.intention(storage, message.id)

    async def intention(self, storage: Storage, intention_id: int) -> Intention | None:
        """The intention, read once for all the subscribers that ask."""
        pending = self._intentions.get(intention_id)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._intentions[intention_id] = pending
            if len(self._intentions) > _KEEP:
                self._intentions.popitem(last=False)
            try:
                async with storage.read() as conn:
                    pending.set_result(await intentions.get(conn, intention_id))
            except BaseException as exc:
                self._intentions.pop(intention_id, None)
                if isinstance(exc, Exception):
                    pending.set_exception(exc)
                    pending.exception()  # retrieved here: the others re-raise it
                else:
                    pending.cancel()
                raise
        return await pending
