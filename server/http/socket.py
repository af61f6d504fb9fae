"""``GET /rpc`` with ``Upgrade: websocket``: JSON-RPC over a socket, with subscriptions.

Each text frame is one request or batch, answered by one frame exactly as
``POST /rpc`` answers it (notifications unanswered). Frames are served in
order, one at a time; subscription events are sent by one task per
subscription, once the subscribe call's answer has gone out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from schema import Feed
from server.rpc import (
    CloseCallback,
    Dispatcher,
    Gone,
    Principal,
    Resolver,
    RpcError,
    end_frame,
    error_reply,
    pump,
)
from server.settings import Settings

__all__ = ["LIVE", "Live", "Socket", "socket_handler"]

log = logging.getLogger("roomrpc.live")
_SHUTTING_DOWN = RpcError(
    "SERVICE_UNAVAILABLE", "The server is shutting down", reason="shutting_down", retryable=True
)
_EXPIRED = RpcError("UNAUTHORIZED", "The token has expired", reason="token_expired")
_REBOUND = RpcError("UNAUTHORIZED", "The socket now acts for another being", reason="rebound")
_BINARY = "Binary frames are not read: send each request as a text frame"


class Live:
    """Every open socket and SSE stream of this app: per-being counts, shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sockets: set[Socket] = set()
        self.by_being: dict[str, set[Socket]] = {}
        self.closing = False
        self.background: set[asyncio.Task[None]] = set()  # referenced until done
        self._prefix = secrets.token_hex(3)
        self._ids = itertools.count(1)

    def new_id(self, kind: str) -> str:
        """A socket id unique in this process."""
        return f"{kind}-{self._prefix}-{next(self._ids):x}"

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background, referenced until it is done."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def bind(self, socket: Socket, principal: Principal) -> None:
        """Count ``socket`` for its being; TOO_MANY_REQUESTS past the per-being limit."""
        mine = self.by_being.setdefault(principal.being_id, set())
        limit = self.settings.live_sockets_per_being
        if socket not in mine and len(mine) >= limit:
            if not mine:
                del self.by_being[principal.being_id]
            message = f"At most {limit} sockets per being"
            raise RpcError("TOO_MANY_REQUESTS", message, reason="sockets_per_being")
        mine.add(socket)

    def unbind(self, socket: Socket, being_id: str) -> None:
        """Stop counting ``socket`` for ``being_id``."""
        mine = self.by_being.get(being_id)
        if mine is not None:
            mine.discard(socket)
            if not mine:
                del self.by_being[being_id]

    def websockets(self) -> int:
        """Open WebSockets (SSE streams are not counted): read when metrics are scraped."""
        return sum(1 for socket in self.sockets if socket.kind == "ws")

    def subscriptions(self) -> int:
        """Subscriptions running on every socket and stream: read when metrics are scraped."""
        return sum(socket.subscription_count for socket in self.sockets)

    async def shutdown(self, app: web.Application) -> None:
        """End every subscription (SERVICE_UNAVAILABLE), let in-flight calls finish, close 1001."""
        self.closing = True
        await asyncio.gather(*(s.shut() for s in tuple(self.sockets)), return_exceptions=True)


LIVE = web.AppKey("live", Live)


class Socket:
    """One WebSocket or SSE stream: the ``Connection`` its calls see."""

    def __init__(self, live: Live, kind: str, send: Callable[[bytes, str | None], Awaitable[None]]):
        self.id = live.new_id(kind)
        self.kind = kind
        self._live = live
        self._send = send
        self._principal: Principal | None = None
        self._subs: dict[str, tuple[str, asyncio.Task[None] | None]] = {}
        self._pending: list[tuple[str, str, Feed[Any]]] = []
        self._callbacks: list[CloseCallback] = []
        self._expiry: asyncio.TimerHandle | None = None
        self._sids = itertools.count(1)
        self.closed = False
        self.idle = asyncio.Event()
        self.idle.set()
        self.close_transport: Callable[[], Awaitable[None]] | None = None
        live.sockets.add(self)

    @property
    def subscription_count(self) -> int:
        """How many subscriptions this socket holds now."""
        return len(self._subs)

    # --- the Connection protocol ---
    @property
    def principal(self) -> Principal | None:
        """The being this socket is bound to now."""
        return self._principal

    def on_close(self, callback: CloseCallback) -> None:
        """Await ``callback()`` when the socket closes (at once if it has)."""
        if self.closed:
            self._live.spawn(_run_callback(callback, self.id))
        else:
            self._callbacks.append(callback)

    def start(self, method: str, feed: Feed[Any]) -> str:
        """Accept a subscription; it is pumped once the subscribe answer is sent."""
        if self.closed or self._live.closing:
            raise _SHUTTING_DOWN
        limit = self._live.settings.live_subscriptions_per_socket
        if len(self._subs) >= limit:
            message = f"At most {limit} subscriptions per socket"
            raise RpcError("TOO_MANY_REQUESTS", message, reason="subscriptions_per_socket")
        sid = f"{self.id}-{next(self._sids)}"
        self._subs[sid] = (method, None)
        self._pending.append((sid, method, feed))
        return sid

    def unsubscribe(self, subscription: str) -> bool:
        """End one subscription from the client's side: True if it was running."""
        entry = self._subs.pop(subscription, None)
        if entry is None:
            return False
        self._stop(entry[1])
        return True

    def authenticate(self, principal: Principal) -> None:
        """Bind to ``principal``; its token's expiry ends the subscriptions.

        A fresh token of the same being moves the expiry on (subscriptions go on);
        another being's ends the subscriptions made for the first.
        """
        self._live.bind(self, principal)
        previous = self._principal
        if previous is not None and previous.being_id != principal.being_id:
            self._live.unbind(self, previous.being_id)
            self.end_all(_REBOUND)  # they were granted to the other being
        self._principal = principal
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if principal.expires_at is not None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, principal.expires_at - time.time())
            self._expiry = loop.call_at(loop.time() + delay, self._expire)

    # --- driven by the transport ---
    def has_pending(self) -> bool:
        """True when a call accepted a subscription not yet launched."""
        return bool(self._pending)

    def launch(self, request_id: str) -> None:
        """Start pumping the subscriptions accepted since the last answer."""
        pending, self._pending = self._pending, []
        for sid, method, feed in pending:
            if sid not in self._subs:  # unsubscribed in the same batch
                self._live.spawn(_close(feed))
                continue
            task = asyncio.get_running_loop().create_task(
                pump(method, sid, feed, self._send, request_id), name=f"roomrpc-sub-{sid}"
            )
            self._subs[sid] = (method, task)
            task.add_done_callback(functools.partial(self._forget, sid))

    def end_all(self, error: RpcError) -> None:
        """End every subscription with ``error`` (sent to the client)."""
        for sid, (method, task) in tuple(self._subs.items()):
            del self._subs[sid]
            self._stop(task)
            frame = end_frame(method, sid, error, None)
            self._live.spawn(self._send_quietly(frame))

    async def shut(self) -> None:
        """Shutdown: end subscriptions, wait for the call in flight, close going-away."""
        self.end_all(_SHUTTING_DOWN)
        await self.idle.wait()
        await asyncio.sleep(0)  # the end frames queued above go out first
        if self.close_transport is not None:
            await self.close_transport()

    async def closed_by_transport(self) -> None:
        """The socket is gone: stop everything, run the close callbacks."""
        if self.closed:
            return
        self.closed = True
        self._live.sockets.discard(self)
        if self._principal is not None:
            self._live.unbind(self, self._principal.being_id)
        if self._expiry is not None:
            self._expiry.cancel()
        for _method, task in self._subs.values():
            self._stop(task)
        self._subs.clear()
        for _sid, _method, feed in self._pending:
            await _close(feed)
        self._pending.clear()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            await _run_callback(callback, self.id)

    def _expire(self) -> None:
        self._expiry = None
        if self._principal is not None:
            self._live.unbind(self, self._principal.being_id)
        self._principal = None
        self.end_all(_EXPIRED)

    def _forget(self, sid: str, task: asyncio.Task[None]) -> None:
        entry = self._subs.get(sid)
        if entry is not None and entry[1] is task:
            del self._subs[sid]

    @staticmethod
    def _stop(task: asyncio.Task[None] | None) -> None:
        if task is not None:
            task.cancel()

    async def _send_quietly(self, frame: bytes) -> None:
        with contextlib.suppress(Gone):
            await self._send(frame, None)


async def _close(feed: Feed[Any]) -> None:
    aclose = getattr(feed, "aclose", None)
    if aclose is not None:
        await aclose()


async def _run_callback(callback: CloseCallback, socket_id: str) -> None:
    try:
        await callback()
    except Exception:
        log.exception("close callback of socket %s failed", socket_id)


def socket_handler(
    dispatcher: Dispatcher[object], resolve: Resolver, live: Live
) -> Callable[[web.Request, str], Awaitable[web.StreamResponse]]:
    """Serve one WebSocket: credentials on the upgrade, then frames until it closes."""
    settings = live.settings

    async def serve(request: web.Request, request_id: str) -> web.StreamResponse:
        principal = None
        authorization = request.headers.get("Authorization")
        if authorization is not None:
            try:
                principal = await resolve(authorization)
            except RpcError as error:
                return _refused(error, request_id)
        if live.closing:
            return _refused(_SHUTTING_DOWN, request_id)
        ws = web.WebSocketResponse(
            heartbeat=settings.live_ping_seconds, max_msg_size=settings.rpc_max_body_bytes
        )

        async def send(frame: bytes, event_id: str | None) -> None:
            try:
                await ws.send_frame(frame, WSMsgType.TEXT)
            except (ConnectionError, RuntimeError):
                raise Gone() from None

        socket = Socket(live, "ws", send)
        try:
            if principal is not None:
                socket.authenticate(principal)
        except RpcError as error:
            await socket.closed_by_transport()
            return _refused(error, request_id)

        async def close() -> None:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

        socket.close_transport = close
        frames = itertools.count(1)
        try:
            await ws.prepare(request)
            async for msg in ws:
                rid = f"{request_id}.{next(frames)}"
                socket.idle.clear()
                try:
                    if msg.type == WSMsgType.TEXT:
                        reply = await dispatcher.handle(
                            msg.data.encode(), request_id=rid, authorization=None, connection=socket
                        )
                    elif msg.type == WSMsgType.BINARY:
                        reply = error_reply("BAD_REQUEST", rid, _BINARY)
                    else:
                        continue
                    if reply.body is not None:
                        await ws.send_frame(reply.body, WSMsgType.TEXT)
                    socket.launch(rid)
                finally:
                    socket.idle.set()
        finally:
            if live.closing and ws.prepared and not ws.closed:
                await close()
            await socket.closed_by_transport()
        return ws

    return serve


def _refused(error: RpcError, request_id: str) -> web.Response:
    reply = error_reply(error.code, request_id, error.message)
    headers = {"X-Request-Id": request_id, "Content-Type": "application/json"}
    return web.Response(body=reply.body, status=reply.status, headers=headers)
