"""The per-call context handed to middleware and handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from server.rpc.connection import Connection
from server.rpc.principal import Principal

__all__ = ["AuthedContext", "Context", "Principal"]

D = TypeVar("D")


@dataclass(slots=True)
class Context(Generic[D]):
    """One call's context: its request id, the app's dependencies, the caller.

    ``deps`` is whatever the application hands the core (settings, storage,
    LiveKit); the core never looks inside it. ``connection`` is the socket the
    call came over (a WebSocket or an SSE stream), None for plain HTTP and
    in-process calls.
    """

    request_id: str
    deps: D
    principal: Principal | None = None
    path: str = ""
    connection: Connection | None = None


@dataclass(slots=True)
class AuthedContext(Context[D]):
    """A context whose caller is known: what ``protected`` hands a handler."""

    principal: Principal  # narrowed: never None here
