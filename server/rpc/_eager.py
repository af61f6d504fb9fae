"""Continue a coroutine that was stepped by hand: most procedures finish without suspending.

The dispatcher sends the first ``None`` into a handler's coroutine itself. If it
returns, the result is known without a task, a timer or an event-loop round
trip. If it suspends, ``Resume`` drives the very same coroutine on from an
``await`` in the caller's task, so timeouts and cancellation still reach it.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["Resume"]


class Resume:
    """An awaitable that continues a coroutine ``start`` left suspended."""

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, message = self._coro, self._yielded
        while True:
            try:
                sent = yield message
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and timeouts reach the coroutine
                try:
                    message = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    message = coro.send(sent)
                except StopIteration as stop:
                    return stop.value
