"""What the generated namespaces call: the caller protocols and their base classes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from schema._procedure import Procedure

if TYPE_CHECKING:
    from roomrpc.client._subscription import Subscription, SyncSubscription

__all__ = [
    "AsyncCaller",
    "AsyncNamespace",
    "SyncCaller",
    "SyncNamespace",
]

In = TypeVar("In")
Out = TypeVar("Out")


class AsyncCaller(Protocol):
    """Runs calls and subscriptions for the async namespaces."""

    def call(
        self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]
    ) -> Awaitable[Out]: ...

    def subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> Subscription[Any]: ...


class SyncCaller(Protocol):
    """Runs calls and subscriptions for the blocking namespaces."""

    def call(self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]) -> Out: ...

    def subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> SyncSubscription[Any]: ...


class AsyncNamespace:
    """Base of a generated async namespace: its methods go through one caller."""

    __slots__ = ("_caller",)

    def __init__(self, caller: AsyncCaller) -> None:
        self._caller = caller

    def _call(
        self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]
    ) -> Awaitable[Out]:
        return self._caller.call(proc, input, params)

    def _subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> Subscription[Any]:
        return self._caller.subscribe(proc, input, params)


class SyncNamespace:
    """Base of a generated blocking namespace."""

    __slots__ = ("_caller",)

    def __init__(self, caller: SyncCaller) -> None:
        self._caller = caller

    def _call(self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]) -> Out:
        return self._caller.call(proc, input, params)

    def _subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> SyncSubscription[Any]:
        return self._caller.subscribe(proc, input, params)
