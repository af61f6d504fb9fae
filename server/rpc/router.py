"""Routers collect handlers; ``compile_procedures`` checks them against the contract."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from schema import Procedure
from server.rpc._serving import serving
from server.rpc.context import Context
from server.rpc.params import ParamsDecoder

__all__ = [
    "Compiled",
    "Handler",
    "Middleware",
    "Next",
    "Router",
    "RouterError",
    "compile_procedures",
]

Handler = Callable[[Any, Any], Awaitable[Any]]
Next = Callable[[Context[Any], Any], Awaitable[Any]]
Middleware = Callable[[Context[Any], Any, Next], Awaitable[Any]]
C = TypeVar("C", bound=Context[Any])
In = TypeVar("In")
Out = TypeVar("Out")

RESERVED_PREFIX = "rpc."


class RouterError(ValueError):
    """A router that cannot serve: raised at start-up, never at request time."""


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: Procedure[Any, Any]
    handler: Handler
    middleware: tuple[Middleware, ...]


class Router:
    """Handlers for contract procedures, with middleware for all of them."""

    def __init__(self, *, middleware: Sequence[Middleware] = ()) -> None:
        for fn in middleware:
            if not inspect.iscoroutinefunction(fn):
                raise RouterError(f"middleware {fn!r} must be an 'async def' function")
        self._middleware = tuple(middleware)
        self._entries: dict[str, _Entry] = {}

    def procedure(
        self, spec: Procedure[In, Out], *, middleware: Sequence[Middleware] = ()
    ) -> Callable[[Callable[[C, In], Awaitable[Out]]], Callable[[C, In], Awaitable[Out]]]:
        """Decorator: ``handler`` serves ``spec``.

        Typed against the contract: a type checker refuses a handler whose params
        are not the procedure's input Struct or whose result is not its output.
        """

        def register(
            handler: Callable[[C, In], Awaitable[Out]],
        ) -> Callable[[C, In], Awaitable[Out]]:
            self.add(spec, handler, middleware=middleware)
            return handler

        return register

    def add(
        self, spec: Procedure[Any, Any], handler: Handler, *, middleware: Sequence[Middleware] = ()
    ) -> None:
        """Serve ``spec`` with ``handler``; a name served twice is refused."""
        if spec.name in self._entries:
            raise RouterError(f"procedure {spec.name!r} is registered twice")
        for fn in (handler, *middleware):
            if not inspect.iscoroutinefunction(fn):
                raise RouterError(f"{spec.name!r}: {fn!r} must be an 'async def' function")
        chain = (*self._middleware, *middleware)
        self._entries[spec.name] = _Entry(spec, handler, chain)

    @property
    def entries(self) -> tuple[_Entry, ...]:
        """What this router serves."""
        return tuple(self._entries.values())


@dataclass(frozen=True, slots=True)
class Compiled:
    """A procedure ready to run: its params decoder and its middleware chain."""

    spec: Procedure[Any, Any]
    params: ParamsDecoder
    run: Callable[[Context[Any], Any], Awaitable[Any]]


def compile_procedures(
    contract: Iterable[Procedure[Any, Any]],
    routers: Iterable[Router],
    *,
    builtins: Iterable[Router] = (),
    protect: Middleware | None = None,
) -> dict[str, Compiled]:
    """Check routers against the contract and build each procedure's chain once.

    Fails on a name served twice, a user procedure under ``rpc.``, a handler for
    a procedure the contract does not declare, and a contract procedure with no
    handler. ``protect`` runs first on every procedure the contract marks protected.
    """
    served: dict[str, _Entry] = {}
    for router, builtin in [*((r, False) for r in routers), *((r, True) for r in builtins)]:
        for entry in router.entries:
            name = entry.spec.name
            if name.startswith(RESERVED_PREFIX) and not builtin:
                raise RouterError(f"procedure {name!r} uses the reserved 'rpc.' prefix")
            if name in served:
                raise RouterError(f"procedure {name!r} is registered twice")
            served[name] = entry
    declared = {spec.name: spec for spec in contract}
    undeclared = sorted(set(served) - set(declared))
    if undeclared:
        raise RouterError(f"handlers for procedures the contract does not declare: {undeclared}")
    missing = sorted(set(declared) - set(served))
    if missing:
        raise RouterError(f"contract procedures without a handler: {missing}")
    for name, entry in served.items():
        if entry.spec is not declared[name]:
            raise RouterError(f"procedure {name!r} is served for a different contract entry")
    return {name: _compile(entry, protect) for name, entry in sorted(served.items())}


def _compile(entry: _Entry, protect: Middleware | None) -> Compiled:
    chain = entry.middleware
    if entry.spec.protected:
        if protect is None:
            raise RouterError(f"{entry.spec.name!r} is protected but no 'protect' middleware given")
        chain = (protect, *chain)
    run: Next = entry.handler
    for middleware in reversed(chain):
        run = _bind(middleware, run)
    if entry.spec.kind == "subscription":  # answers {"subscription": sid} on a socket only
        run = serving(run)
    return Compiled(entry.spec, ParamsDecoder(entry.spec.input), run)


def _bind(middleware: Middleware, call_next: Next) -> Next:
    def step(ctx: Context[Any], params: Any) -> Awaitable[Any]:
        return middleware(ctx, params, call_next)

    return step
