"""A subscription's events as an async (or blocking) iterator, fed by the client's socket."""

from __future__ import annotations

import asyncio
import concurrent.futures
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

__all__ = ["Subscription", "SyncSubscription"]

E = TypeVar("E")
_END = object()


class Owner(Protocol):
    """The socket side: what subscribes, and what unsubscribes."""

    def add(self, sub: Subscription[Any]) -> None: ...

    async def remove(self, sub: Subscription[Any]) -> None: ...


class Subscription(Generic[E], AsyncIterator[E]):
    """Events of one subscription, in order; ``last_event_id`` is the last one handed out.

    Use ``async for event in sub`` (it subscribes on first use), and
    ``await sub.aclose()`` or ``async with`` to stop. An end the server gives for
    good (access lost, the space deleted, the token refused) raises :class:`RpcError`.
    """

    def __init__(
        self, live: Owner, method: str, params: dict[str, Any], decoder: msgspec.json.Decoder[E]
    ) -> None:
        self.method = method
        self.params = params
        self.last_event_id: str | None = params.get("lastEventId")
        self.received_id = self.last_event_id  # the resume point: queued events are not lost
        self.sid: str | None = None
        self.state: Literal["idle", "pending", "active", "closed"] = "idle"
        self._live = live
        self._decoder = decoder
        self._queue: asyncio.Queue[tuple[str | None, E] | BaseException | object] = asyncio.Queue()

    def __aiter__(self) -> Subscription[E]:
        self._live.add(self)
        return self

    async def __anext__(self) -> E:
        if self.state == "idle":
            self._live.add(self)
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._queue.put_nowait(_END)
            raise item
        event_id, data = typing.cast(tuple[str | None, E], item)
        self.last_event_id = event_id
        return data

    def started(self, after: str | None) -> None:
        """The subscribe answer's ``lastEventId``, where the events start: before any event,
        it is where to resume, so an event sent while the socket was down is not lost."""
        if after is not None and self.received_id is None:
            self.received_id = after
            if self.last_event_id is None:
                self.last_event_id = after

    async def __aenter__(self) -> Subscription[E]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe; the iterator ends."""
        await self._live.remove(self)

    def deliver(self, event_id: str | None, raw: msgspec.Raw) -> None:
        self.received_id = event_id or self.received_id
        self._queue.put_nowait((event_id, self._decoder.decode(raw)))

    def finish(self, error: BaseException | None) -> None:
        self.state = "closed"
        self._queue.put_nowait(error if error is not None else _END)

    def resume_params(self) -> dict[str, Any]:
        if self.received_id is None:
            return self.params
        return {**self.params, "lastEventId": self.received_id}


class SyncSubscription(Generic[E], Iterator[E]):
    """A :class:`Subscription` read from blocking code, through the client's private loop."""

    def __init__(self, sub: Subscription[E], loop: asyncio.AbstractEventLoop) -> None:
        self._sub = sub
        self._loop = loop

    @property
    def last_event_id(self) -> str | None:
        return self._sub.last_event_id

    def __iter__(self) -> SyncSubscription[E]:
        return self

    def __next__(self) -> E:
        future: concurrent.futures.Future[E] = asyncio.run_coroutine_threadsafe(
            _next(self._sub), self._loop
        )
        try:
            return future.result()
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Unsubscribe; the iterator ends."""
        asyncio.run_coroutine_threadsafe(self._sub.aclose(), self._loop).result()

    def __enter__(self) -> SyncSubscription[E]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _next(sub: Subscription[E]) -> E:
    return await sub.__anext__()
