"""Subscriptions over one WebSocket at ``GET /rpc``: async iterators that resume by themselves.

The socket carries every subscription of a client. When it drops, or the server
ends a subscription for a passing reason (shutting down, a slow reader), the
client reconnects with backoff and subscribes again from the last event id it
received, so the server replays what was missed: no gap, no duplicate.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec

from roomrpc.client._errors import RpcError
from roomrpc.client._subscription import Subscription
from roomrpc.client._wire import EventParams, RetryPolicy, WireError, answers, to_error

__all__ = ["SOCKET_CALLS", "Live"]

# Calls whose effect lives as long as the socket that made them: they ride the socket.
SOCKET_CALLS = frozenset({"presence.join", "presence.update", "presence.leave"})


_SubscribeResult = msgspec.json.Decoder(dict[str, str])
_EventParams = msgspec.json.Decoder(EventParams)


class SocketCall:
    """A call that rides the socket (presence lives as long as the socket does)."""

    __slots__ = ("decoder", "future", "method", "params")

    def __init__(
        self,
        method: str,
        params: Any,
        decoder: msgspec.json.Decoder[Any],
        future: asyncio.Future[Any] | None,
    ) -> None:
        self.method = method
        self.params = params
        self.decoder = decoder
        self.future = future  # None for a replayed presence.join nobody awaits


class Live:
    """One WebSocket for every subscription of a client, reconnected while any is open.

    ``presence.join`` calls are remembered (until ``presence.leave``) and made again
    on each new socket, so a being stays present through reconnects.
    """

    def __init__(
        self,
        url: str,
        session: Callable[[], aiohttp.ClientSession],
        headers: Callable[[], dict[str, str]],
        *,
        retry: RetryPolicy,
        heartbeat: float = 20.0,
    ) -> None:
        self._url = url
        self._session = session
        self._headers = headers
        self._retry = retry
        self._heartbeat = heartbeat
        self._subs: list[Subscription[Any]] = []
        self._by_sid: dict[str, Subscription[Any]] = {}
        self._pending: dict[int, Subscription[Any] | SocketCall] = {}
        self._queued: list[SocketCall] = []
        self._held: dict[str, SocketCall] = {}  # presence.join by room and device
        self._ids = itertools.count(1)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self.connects = 0  # sockets opened: what a test of reconnection counts
        self._connected_with: dict[str, str] = {}

    def _wanted(self) -> bool:
        return bool(self._subs or self._held or self._queued)

    def _ensure(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, sub: Subscription[Any]) -> None:
        if sub.state != "idle" or sub in self._subs:
            return
        self._subs.append(sub)
        self._ensure()
        self._subscribe(sub)

    def call(self, method: str, params: Any, decoder: msgspec.json.Decoder[Any]) -> Awaitable[Any]:
        """Send a call over the socket (opening it if need be); its answer, decoded."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        call = SocketCall(method, params, decoder, future)
        wire = msgspec.to_builtins(params)
        place = f"{wire.get('roomBeingId')}#{wire.get('device')}" if isinstance(wire, dict) else ""
        if method == "presence.join":
            self._held[place] = SocketCall(method, params, decoder, None)
        elif method == "presence.leave":
            self._held.pop(place, None)
        self._queued.append(call)
        self._ensure()
        self._drain()
        return future

    async def remove(self, sub: Subscription[Any]) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        if sub.sid is not None and self._ws is not None and not self._ws.closed:
            self._by_sid.pop(sub.sid, None)
            params = {"subscription": sub.sid}
            self._send({"jsonrpc": "2.0", "method": "rpc.unsubscribe", "params": params})
        if sub.state != "closed":
            sub.finish(None)
        if not self._wanted() and self._ws is not None:
            await self._ws.close()

    async def close(self) -> None:
        for sub in list(self._subs):
            sub.finish(None)
        self._subs.clear()
        self._held.clear()
        for call in self._queued:
            if call.future is not None and not call.future.done():
                call.future.cancel()
        self._queued.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        attempt = 0
        try:
            while self._wanted():
                try:
                    self._connected_with = self._headers()
                    async with self._session().ws_connect(
                        self._url, headers=self._connected_with, heartbeat=self._heartbeat
                    ) as ws:
                        self.connects += 1
                        attempt = 0
                        self._ws = ws
                        queued = {(c.method, _key(c.params)) for c in self._queued}
                        again = [
                            h
                            for h in self._held.values()
                            if (h.method, _key(h.params)) not in queued
                        ]
                        self._queued[:0] = again  # presence, again
                        for sub in list(self._subs):
                            self._subscribe(sub)
                        self._drain()  # after the subscriptions: their answers come first
                        async for message in ws:
                            if message.type is aiohttp.WSMsgType.TEXT:
                                self._receive(message.data.encode())
                            elif message.type is aiohttp.WSMsgType.BINARY:
                                self._receive(message.data)
                except (aiohttp.ClientError, OSError, TimeoutError):
                    pass  # reconnect below
                finally:
                    self._lost()
                if self._wanted():
                    await asyncio.sleep(self._retry.delay(attempt))
                    attempt = min(attempt + 1, 16)
        finally:
            self._task = None

    def _lost(self) -> None:
        """The socket is gone: subscriptions wait to resume, calls in flight are retried."""
        self._ws = None
        self._by_sid.clear()
        for pending in self._pending.values():
            if isinstance(pending, SocketCall) and pending.future is not None:
                self._queued.append(pending)
        self._pending.clear()
        for sub in self._subs:
            sub.sid, sub.state = None, "idle"

    def _send(self, frame: dict[str, Any]) -> None:
        assert self._ws is not None
        task = asyncio.get_running_loop().create_task(
            self._ws.send_str(msgspec.json.encode(frame).decode())
        )
        task.add_done_callback(_quiet)

    def _request(self, method: str, params: Any, waiting: Subscription[Any] | SocketCall) -> None:
        id = next(self._ids)
        self._pending[id] = waiting
        self._send({"jsonrpc": "2.0", "method": method, "params": params, "id": id})

    def _drain(self) -> None:
        if self._ws is None or self._ws.closed:
            return
        queued, self._queued = self._queued, []
        for call in queued:
            if call.future is None or not call.future.done():
                self._request(call.method, call.params, call)

    def _subscribe(self, sub: Subscription[Any]) -> None:
        if self._ws is None or self._ws.closed or sub.state != "idle":
            return
        sub.state = "pending"
        self._request(sub.method, sub.resume_params(), sub)

    def _receive(self, frame: bytes) -> None:
        try:
            got = answers(frame)
        except msgspec.DecodeError:
            return  # not ours to read; the server never sends one
        for answer in got:
            if answer.method is not None and not isinstance(answer.params, msgspec.UnsetType):
                self._notified(_EventParams.decode(answer.params))
            elif isinstance(answer.id, int) and answer.id in self._pending:
                waiting = self._pending.pop(answer.id)
                if isinstance(waiting, SocketCall):
                    _settle(waiting, answer.result, answer.error, answer.id)
                else:
                    self._answered(waiting, answer.result, answer.error, answer.id)

    def _answered(
        self, sub: Subscription[Any], result: Any, error: WireError | None, id: int
    ) -> None:
        if sub not in self._subs:
            return
        if error is not None:
            self._ended(sub, to_error(error, method=sub.method, id=id))
            return
        answered = _SubscribeResult.decode(result)
        sub.sid = answered["subscription"]
        sub.started(answered.get("lastEventId"))
        sub.state = "active"
        self._by_sid[sub.sid] = sub

    def _notified(self, params: EventParams) -> None:
        sub = self._by_sid.get(params.subscription)
        if sub is None:
            return
        if params.error is not None:
            del self._by_sid[params.subscription]
            self._ended(sub, to_error(params.error, method=sub.method))
        elif not isinstance(params.data, msgspec.UnsetType):
            sub.deliver(params.id, params.data)

    def _ended(self, sub: Subscription[Any], error: RpcError) -> None:
        """An end the server calls passing (``data.retryable``: shutting down, a slow
        reader) is resumed from the last event; any other ends the iterator with it.
        A limit (subscriptions per socket) says nothing of the kind: trying again
        would loop."""
        sub.sid, sub.state = None, "idle"
        if error.reason == "token_expired" and self._headers() != self._connected_with:
            if self._ws is not None:  # a fresh token to hand: a new socket carries it
                asyncio.get_running_loop().create_task(self._ws.close()).add_done_callback(_quiet)
            return
        if error.data.get("retryable") is True:
            delay = self._retry.delay(0, error.retry_after)
            asyncio.get_running_loop().call_later(delay, self._subscribe, sub)
            return
        self._subs.remove(sub)
        sub.finish(error)


def _key(params: Any) -> bytes:
    return msgspec.json.encode(params)


def _settle(call: SocketCall, result: Any, error: WireError | None, id: int) -> None:
    if call.future is None or call.future.done():
        return  # a replayed presence.join: its answer matters to nobody
    if error is not None:
        call.future.set_exception(to_error(error, method=call.method, id=id))
    elif isinstance(result, msgspec.UnsetType):
        call.future.set_result(None)
    else:
        try:
            call.future.set_result(call.decoder.decode(result))
        except msgspec.ValidationError as exc:
            call.future.set_exception(exc)


def _quiet(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a send on a closing socket: the reconnect resubscribes
