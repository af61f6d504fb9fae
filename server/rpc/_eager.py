"""Run a coroutine eagerly: most procedures finish without ever suspending.

``start`` steps a coroutine until it first suspends. If it finished, the
result is known without a task, a timer or an event-loop round trip; if it
suspended, ``Resume`` continues driving the very same coroutine from an
``await`` in the caller's task, so timeouts and cancellation still reach it.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["Resume", "pending", "start"]

_PENDING = object()


def start(coro: Coroutine[Any, Any, Any]) -> tuple[Any, Any]:
    """Step ``coro`` once: ``(result, None)`` if it returned, else ``(_PENDING, yielded)``."""
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return stop.value, None
    return _PENDING, yielded


def pending(result: Any) -> bool:
    """True when ``start`` found the coroutine suspended."""
    return result is _PENDING


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
