"""The per-call context handed to middleware and handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from server.rpc.connection import Connection

__all__ = ["AuthedContext", "Context", "Principal"]

D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a being id and the roles its credentials carry."""

    being_id: str
    roles: frozenset[str] = frozenset()
    expires_at: float | None = field(default=None, compare=False)  # the token's exp (Unix time)

    @property
    def is_admin(self) -> bool:
        """True for trusted services and operators."""
        return "admin" in self.roles


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
