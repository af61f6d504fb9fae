"""Subscriptions: the third kind of procedure, served over sockets only.

Declaring one (``schema/``)::

    watch = subscription("intention.watch", WatchInput, Intention, "...", errors=(...))

``WatchInput`` has ``last_event_id: str | None = None``. Serving it
(``server/procedures/``), with the same typed decorator as any procedure::

    @router.procedure(intention.watch)
    async def watch(ctx: Ctx, params: intention.WatchInput) -> Feed[Intention]:
        ...check access exactly as the matching read does (raise RpcError to refuse)...
        ...register interest in what happens next (e.g. subscribe to the bus) HERE,
           before returning, so nothing committed after the answer is missed...
        return _events(...)  # an async generator yielding Event(id, data)

The handler runs when the client subscribes: what it raises is the answer to
the subscribe call. What it returns is a ``Feed`` (an async iterator of
``Event(id: str, data)``); the socket answers ``{"subscription": sid}`` and then
sends each event the feed yields, in order, as a notification
``{"method": <name>, "params": {"subscription", "id", "data"}}``. A snapshot is
simply the first event(s) the feed yields. The feed ends the subscription by:

- raising ``RpcError``: the client gets ``params: {subscription, error}``;
- returning: the client gets ``params: {subscription}`` (complete, no error);
- being closed by the core (``rpc.unsubscribe``, the socket closing, the token
  expiring, shutdown): ``GeneratorExit`` at its ``yield``, so ``finally`` blocks
  release what it holds.

Over plain ``POST /rpc`` (no connection) a subscription is BAD_REQUEST saying
how to subscribe.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from schema import Event, Feed
from schema import rpc as rpc_schema
from schema.errors import ErrorObject
from server.rpc._serving import HOW_TO_SUBSCRIBE, close_feed, serving
from server.rpc.context import Context
from server.rpc.errors import RpcError, error_object
from server.rpc.router import Compiled, Router

__all__ = [
    "HOW_TO_SUBSCRIBE",
    "Gone",
    "Send",
    "end_frame",
    "event_frame",
    "live_router",
    "pump",
    "serving",
]

log = logging.getLogger("roomrpc.rpc")
Send = Callable[[bytes, str | None], Awaitable[None]]  # a frame, and its event id (None: the end)
_INTERNAL = RpcError("INTERNAL_SERVER_ERROR")


class _EventParams(msgspec.Struct):
    subscription: str
    id: str
    data: Any


class _EndParams(msgspec.Struct, omit_defaults=True):
    subscription: str
    error: ErrorObject | None = None


class _Notification(msgspec.Struct):
    jsonrpc: str
    method: str
    params: _EventParams | _EndParams


_encode = msgspec.json.Encoder().encode


def event_frame(method: str, sid: str, event: Event[Any]) -> bytes:
    """The notification carrying one event."""
    return _encode(_Notification("2.0", method, _EventParams(sid, event.id, event.data)))


def end_frame(method: str, sid: str, error: RpcError | None, request_id: str | None) -> bytes:
    """The notification that ends a subscription (``error`` None: it completed)."""
    obj = None if error is None else error_object(error, path=method, request_id=request_id)
    return _encode(_Notification("2.0", method, _EndParams(sid, obj)))


class Gone(Exception):
    """Raised by a ``Send`` whose socket has closed: the subscription stops quietly."""


async def pump(method: str, sid: str, feed: Feed[Any], send: Send, request_id: str) -> None:
    """Send ``feed``'s events, then its end; closed feeds (cancelled) send nothing more."""
    end: RpcError | None = None
    try:
        async for event in feed:
            await send(event_frame(method, sid, event), event.id)
    except Gone:
        return
    except RpcError as error:
        end = error
    except Exception:
        log.exception("subscription %s of %s failed (request %s)", sid, method, request_id)
        end = _INTERNAL
    finally:
        await close_feed(feed)
    with contextlib.suppress(Gone):
        await send(end_frame(method, sid, end, request_id), None)


def live_router(
    resolve: Callable[[str], Awaitable[Any]], procedures: Mapping[str, Compiled]
) -> Router:
    """``rpc.authenticate`` (answers what ``auth.me`` does) and ``rpc.unsubscribe``.

    ``procedures`` is looked up when called, so it may be filled after compiling.
    """
    router = Router()

    @router.procedure(rpc_schema.authenticate)
    async def authenticate(ctx: Context[Any], params: rpc_schema.AuthenticateInput) -> Any:
        connection = ctx.connection
        if connection is None:
            message = "rpc.authenticate binds a WebSocket; over HTTP send 'Authorization: Bearer'"
            raise RpcError("BAD_REQUEST", message)
        principal = await resolve(f"Bearer {params.token}")
        if principal is None:
            raise RpcError("UNAUTHORIZED", "The token names no being", reason="invalid_token")
        me = procedures["auth.me"]
        answer = await me.run(
            Context(ctx.request_id, ctx.deps, principal, me.spec.name, connection),
            me.params.decode(None),
        )
        connection.authenticate(principal)
        return answer

    @router.procedure(rpc_schema.unsubscribe)
    async def unsubscribe(ctx: Context[Any], params: rpc_schema.UnsubscribeInput) -> bool:
        if ctx.connection is None:
            raise RpcError("BAD_REQUEST", "rpc.unsubscribe ends a subscription of a socket")
        return ctx.connection.unsubscribe(params.subscription)

    return router
