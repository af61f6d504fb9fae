"""Rate limits per caller and class of call, counted by the `limits` library.

Memory storage (the default) counts in this process, without awaiting: a call
costs a dictionary lookup and the storage's ``incr``. ``RATE_LIMIT_STORAGE=
redis://...`` counts in Redis, so every worker and instance shares the limits.
Fixed windows: the cheapest strategy, and the one both storages implement alike.

Besides the classes of calls (``schema.LimitClass``), transports count what
they open against limits of their own through :meth:`RateLimits.admit`:
``"socket"`` for each WebSocket connection and ``"subscription"`` for each
subscription a caller starts.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.storage import MemoryStorage, storage_from_string

from schema import LimitClass
from server.rpc import Limited
from server.settings import Settings

if TYPE_CHECKING:
    import coredis

__all__ = ["OpenLimit", "RateLimits"]

OpenLimit = Literal["socket", "subscription"]
_CACHE_MAX = 10_000  # keys remembered per class; forgotten all at once beyond it


class _LoopMemory(MemoryStorage):
    """limits' memory storage, without its expiry thread.

    ``MemoryStorage.incr`` starts a ``threading.Timer`` whenever the last one has
    run (every 10 ms under load); under an event loop each start waits for the GIL
    and costs the hot path about a microsecond a call. A counter past its window is
    reset by ``incr`` itself (``get`` drops it), so the thread only frees memory of
    callers gone quiet: :meth:`RateLimits.expire` does that from the event loop.
    """

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name incr calls (mangled)
        pass

    def expire(self) -> None:
        """Drop the counters whose window has passed."""
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]

    def count(self, key: str, expiry: int, amount: int) -> int:
        """``incr`` for the event loop's thread alone: the same counters and expirations,
        without the per-key lock, the error wrapper and a second clock read that every
        ``incr`` pays (about 0.5 µs a call instead of 5). The new count."""
        now = time.time()
        storage = self.storage
        if self.expirations.get(key, 0.0) <= now:  # a window that has passed starts anew
            storage.pop(key, None)
        count = storage[key] + amount
        storage[key] = count
        if count == amount:
            self.expirations[key] = now + expiry
        return count


class RateLimits:
    """The limits of every class, in one storage; ``hit`` and ``admit`` count a call."""

    def __init__(self, settings: Settings) -> None:
        rates: dict[str, str] = {
            "read": settings.rate_limit_reads,
            "write": settings.rate_limit_writes,
            "livekit": settings.rate_limit_livekit,
            "token": settings.rate_limit_tokens,
            "socket": settings.rate_limit_sockets,
            "subscription": settings.rate_limit_subscriptions,
        }
        self._items: dict[str, RateLimitItem] = {name: parse(r) for name, r in rates.items()}
        # Per class, what hit() needs at hand: the item, its window, its amount, its keys.
        self._classes: dict[str, tuple[RateLimitItem, int, int, dict[str, str]]] = {
            name: (item, item.get_expiry(), item.amount, {}) for name, item in self._items.items()
        }
        uri = settings.rate_limit_storage
        self.synchronous = uri.startswith("memory://")
        self._memory = _LoopMemory() if self.synchronous else None
        self._shared: AsyncStorage | None = None
        self._pool: coredis.ConnectionPool | None = None
        if not self.synchronous:  # our own pool, so that shutdown closes its connections
            import coredis  # imported when Redis counts: some 15 MiB a memory-only worker spares

            self._pool = coredis.ConnectionPool.from_url(uri)
            options: dict[str, Any] = {"connection_pool": self._pool}  # typed str by limits
            shared = storage_from_string(f"async+{uri}", **options)
            assert isinstance(shared, AsyncStorage)
            self._shared = shared

    def hit(self, limit: LimitClass | OpenLimit, who: str) -> Limited | None:
        """Count one call of ``who`` (memory storage); None when within the limit."""
        return self.hit_many(limit, who, 1)[1]

    def hit_many(
        self, limit: LimitClass | OpenLimit, who: str, calls: int
    ) -> tuple[int, Limited | None]:
        """Count ``calls`` calls of ``who`` at once (a batch's calls of one class): how
        many of them, the first ones, are within the limit, and the limit the others hit.

        The same counts as ``calls`` hits one after another, with one ``incr``.
        """
        item, window, amount, keys = self._classes[limit]
        key = keys.get(who)
        if key is None:
            if len(keys) >= _CACHE_MAX:
                keys.clear()
            key = keys[who] = item.key_for(limit, who)
        memory = self._memory
        assert memory is not None, "hit_many() needs memory storage: use ahit_many()"
        count = memory.count(key, window, calls)
        if count <= amount:
            return calls, None
        within = max(amount - (count - calls), 0)
        return within, Limited(max(memory.get_expiry(key) - time.time(), 0.001), amount, window)

    async def ahit(self, limit: LimitClass | OpenLimit, who: str) -> Limited | None:
        """Count one call of ``who`` in any storage (Redis: shared by every instance)."""
        if self._shared is None:
            return self.hit(limit, who)
        return (await self._ahit(limit, who, 1))[1]

    async def ahit_many(
        self, limit: LimitClass, who: str, calls: int
    ) -> tuple[int, Limited | None]:
        """``hit_many`` in any storage: one ``incr`` in Redis for the lot."""
        if self._shared is None:
            return self.hit_many(limit, who, calls)
        return await self._ahit(limit, who, calls)

    async def _ahit(
        self, limit: LimitClass | OpenLimit, who: str, calls: int
    ) -> tuple[int, Limited | None]:
        # the fixed window strategy's own step (limits.aio.strategies), keeping the count
        shared = self._shared
        assert shared is not None
        item, window, amount, _ = self._classes[limit]
        key = item.key_for(limit, who)
        count = await shared.incr(key, window, amount=calls)
        if count <= amount:
            return calls, None
        reset = await shared.get_expiry(key)
        limited = Limited(max(reset - time.time(), 0.001), amount, window)
        return max(amount - (count - calls), 0), limited

    async def admit(self, limit: OpenLimit, who: str) -> Limited | None:
        """For transports: count a WebSocket connection or a subscription of ``who``
        (a being id, or ``client_address`` for anonymous callers); None: go ahead,
        else refuse it with TOO_MANY_REQUESTS and ``retryAfter``."""
        return await self.ahit(limit, who)

    async def ping(self) -> None:
        """Raises when a shared storage does not answer (the /readyz check)."""
        if self._shared is not None and not await self._shared.check():
            raise ConnectionError("rate limit storage does not answer")

    def expire(self) -> None:
        """Free the memory of counters whose window has passed (memory storage)."""
        if self._memory is not None:
            self._memory.expire()

    def close(self) -> None:
        """Close the connections to a shared storage."""
        if self._pool is not None:
            self._pool.disconnect()

    async def reset(self) -> None:
        """Forget every count (tests and operators)."""
        if self._memory is not None:
            self._memory.reset()
        if self._shared is not None:
            await self._shared.reset()
