"""Turns on the event loop for heavy batches: one call per round of the loop, oldest first.

A batch that has held the loop for a while (a few milliseconds of synchronous
reads, say) runs each further call only when it has the turn. The turn is handed
on at the next round of the loop, never within the same one, so between two
heavy calls the loop serves everything else: a trivial call waits for at most
one heavy call, however many heavy batches run. The oldest batch waiting gets
the turn: heavy batches finish in the order they came, rather than all at once
at the end. While a call awaits I/O it has given the turn back, so on a
database reached over the network the next batch's call runs meanwhile.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["Turns"]


class Turns:
    """A lock whose waiters are served oldest batch first, handed over a round later."""

    __slots__ = ("_busy", "_order", "_waiting")

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # ties: first come, first served

    async def take(self, since: float) -> None:
        """Wait for the turn; ``since``: when the caller's batch began (older goes first)."""
        if not self._busy:
            self._busy = True
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (since, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed the turn, then cancelled
                self.give()
            raise

    def give(self) -> None:
        """End the turn: the oldest waiter gets it at the next round of the loop."""
        asyncio.get_running_loop().call_soon(self._hand_over)

    def _hand_over(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(None)
                return
        self._busy = False
