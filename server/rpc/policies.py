"""What the dispatcher asks of rate limits and idempotency stores: shapes, not backends.

The core knows nothing of `limits`, Redis or SQL; the application hands it
objects of these shapes (``server.ratelimit``, ``server.storage.idempotency``).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from schema import LimitClass

__all__ = ["Idempotency", "Limited", "RateLimiter", "Stored"]


class Limited(NamedTuple):
    """A call over its limit: when to try again, and the limit it hit."""

    retry_after: float  # seconds
    limit: int  # calls allowed per window
    window: int  # the window, in seconds


class RateLimiter(Protocol):
    """Counts calls per caller and class; a synchronous one answers without awaiting."""

    @property
    def synchronous(self) -> bool:
        """True when ``hit`` may be used (memory); False: ``ahit`` (a shared store)."""
        ...

    def hit(self, limit: LimitClass, who: str) -> Limited | None:
        """Count one call; None when it is within the limit."""
        ...

    async def ahit(self, limit: LimitClass, who: str) -> Limited | None:
        """``hit`` against a store that must be awaited."""
        ...

    def hit_many(self, limit: LimitClass, who: str, calls: int) -> tuple[int, Limited | None]:
        """Count ``calls`` calls at once: how many, the first ones, are within the limit,
        and the limit the others hit (None when all are within it)."""
        ...

    async def ahit_many(
        self, limit: LimitClass, who: str, calls: int
    ) -> tuple[int, Limited | None]:
        """``hit_many`` against a store that must be awaited."""
        ...


class Stored(NamedTuple):
    """An answer kept under an idempotency key: replayed as it was sent."""

    body: bytes | None
    status: int


class Idempotency(Protocol):
    """Reserves keys, keeps answers, replays them; shared by every instance."""

    async def begin(self, scope: str, key: str, digest: bytes) -> Stored | None:
        """None: the caller runs the request (the key is now reserved for it).

        A kept answer of the same body is returned; a different body, or a twin
        still running after the bounded wait, raises ``RpcError`` (CONFLICT).
        """
        ...

    async def finish(self, scope: str, key: str, answer: Stored) -> None:
        """Keep the answer of a reserved key."""
        ...

    async def abandon(self, scope: str, key: str) -> None:
        """Free a reserved key whose request should run again when retried."""
        ...
