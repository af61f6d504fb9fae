"""What a handler called over a socket (WebSocket or SSE stream) sees of that socket.

``ctx.connection`` is None for a plain ``POST /rpc`` call and the server-side
caller; over a socket it is a ``Connection``:

- ``id``: unique per socket in this process (e.g. ``"ws-3f2a1c-17"``);
- ``principal``: who the socket is bound to now (None while anonymous), so
  ``principal.being_id`` is the being; it changes on ``rpc.authenticate`` and
  becomes None when the token expires;
- ``on_close(callback)``: ``callback()`` (async, no arguments) is awaited once
  when the socket closes, whatever the cause (client gone, heartbeat lost,
  server shutting down); callbacks registered after the close run at once;
- ``admit(method)``, ``start(method, feed)``, ``unsubscribe(sid)``, ``authenticate(principal)``:
  used by the core (``server.rpc.subscriptions``), not by handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from schema import Feed
from server.rpc.principal import Principal

__all__ = ["CloseCallback", "Connection"]

CloseCallback = Callable[[], Awaitable[None]]


class Connection(Protocol):
    """One client socket: a WebSocket, or one SSE stream (which carries one subscription)."""

    @property
    def id(self) -> str:
        """Unique per socket in this process."""
        ...

    @property
    def principal(self) -> Principal | None:
        """The being the socket is bound to now; None while anonymous."""
        ...

    def on_close(self, callback: CloseCallback) -> None:
        """Await ``callback()`` once when the socket closes."""
        ...

    async def admit(self, method: str) -> None:
        """Count one subscription of ``method`` against the caller's rate limit; RpcError
        (TOO_MANY_REQUESTS with ``retryAfter``) past it."""
        ...

    def start(self, method: str, feed: Feed[Any]) -> str:
        """Serve ``feed`` as a subscription of ``method``; its id. RpcError past a limit."""
        ...

    def unsubscribe(self, subscription: str) -> bool:
        """End one of this socket's subscriptions; False if it names none."""
        ...

    def authenticate(self, principal: Principal) -> None:
        """Bind the socket to ``principal``. RpcError past the sockets-per-being limit."""
        ...
