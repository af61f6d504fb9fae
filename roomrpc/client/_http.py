"""Calls over ``POST /rpc``: same-tick calls in one batch, safe retries with backoff."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from roomrpc.client._wire import Answer, RetryPolicy, WireError, answers, to_error

__all__ = ["Call", "HttpTransport"]

# Answers a proxy or a restarting server gives without a JSON-RPC body: try again.
_RETRY_STATUSES = frozenset({502, 503, 504})
_LARGE = 1 << 20
_NETWORK_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class Call:
    """One call waiting for its answer."""

    __slots__ = ("attempt", "decoder", "future", "id", "key", "method", "params", "safe")

    def __init__(
        self,
        method: str,
        params: Any,
        decoder: msgspec.json.Decoder[Any] | None,
        future: asyncio.Future[Any],
        *,
        key: str | None,
        safe: bool,
    ) -> None:
        self.method = method
        self.params = params
        self.decoder = decoder
        self.future = future
        self.key = key  # a mutation's Idempotency-Key, the same on every retry
        self.safe = safe  # a query, or a mutation carrying a key: may be sent again
        self.attempt = 0
        self.id: int | None = None  # kept across retries: a keyed call's body never changes


class HttpTransport:
    """Collects the calls made in one loop iteration and posts them as one batch."""

    def __init__(
        self,
        url: str,
        session: Callable[[], aiohttp.ClientSession],
        headers: Callable[[], dict[str, str]],
        *,
        retry: RetryPolicy,
        max_batch: int,
    ) -> None:
        self._url = url
        self._session = session
        self._headers = headers
        self._retry = retry
        self._max_batch = max_batch
        self._pending: list[Call] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0  # HTTP requests sent: what batching saves

    def send(self, call: Call) -> None:
        """Queue ``call`` for the batch of this loop iteration."""
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(call)

    def _flush(self) -> None:
        calls, self._pending = self._pending, []
        # A key covers one request's exact body, so a keyed mutation goes alone: its
        # retry resends the same body under the same key, whatever its neighbours got.
        batched = [c for c in calls if c.key is None]
        groups = [[c] for c in calls if c.key is not None]
        groups += [
            batched[i : i + self._max_batch] for i in range(0, len(batched), self._max_batch)
        ]
        for group in groups:
            task = asyncio.get_running_loop().create_task(self._post(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, calls: list[Call]) -> None:
        try:
            await self._post_once(calls)
        except BaseException as exc:  # never leave a caller waiting on a failed task
            for call in calls:
                _fail(call.future, exc)
            if not isinstance(exc, Exception):
                raise

    async def _post_once(self, calls: list[Call]) -> None:
        for call in calls:
            if call.id is None:
                call.id = next(self._ids)
        by_id = {call.id: call for call in calls if call.id is not None}
        envelopes = [_envelope(c.method, c.params, i) for i, c in by_id.items()]
        body = msgspec.json.encode(envelopes if len(envelopes) > 1 else envelopes[0])
        headers = {**self._headers(), "Content-Type": "application/json"}
        if calls[0].key is not None:
            headers["Idempotency-Key"] = calls[0].key
        while True:
            try:
                got = await self._exchange(body, headers)
                break
            except _NETWORK_ERRORS as exc:
                attempt = max(c.attempt for c in calls)
                if not all(c.safe for c in calls) or attempt + 1 >= self._retry.attempts:
                    for call in calls:
                        _fail(call.future, exc)
                    return
                for call in calls:
                    call.attempt += 1
                await asyncio.sleep(self._retry.delay(attempt))
        if isinstance(got, WireError):  # the whole request refused (size, media type, a limit)
            for call in calls:
                self._settle(call, Answer(error=got), None)
            return
        for answer in got:
            found = by_id.pop(answer.id, None) if isinstance(answer.id, int) else None
            if found is not None:
                self._settle(found, answer, answer.id)
        for i, call in by_id.items():  # a server that leaves a call unanswered
            _fail(call.future, to_error(WireError(-32603, "No answer"), method=call.method, id=i))

    async def _exchange(self, body: bytes, headers: dict[str, str]) -> list[Answer] | WireError:
        self.requests += 1
        # aiohttp warns that a large bytes body blocks the loop; a stream (fresh per try) does not
        data = body if len(body) < _LARGE else io.BytesIO(body)
        async with self._session().post(self._url, data=data, headers=headers) as response:
            raw = await response.read()
            if response.status in _RETRY_STATUSES and not _is_json(response):
                raise aiohttp.ServerConnectionError(f"HTTP {response.status}")
            try:
                got = answers(raw)
            except msgspec.DecodeError:
                return WireError(-32603, f"HTTP {response.status} without a JSON-RPC answer")
            if len(got) == 1 and got[0].id is None and got[0].error is not None:
                return got[0].error
            return got

    def _settle(self, call: Call, answer: Answer, id: int | str | None) -> None:
        if call.future.done():  # cancelled by its caller meanwhile
            return
        if answer.error is None:
            result = answer.result
            try:
                value = call.decoder.decode(result) if call.decoder and result else _plain(result)
            except msgspec.ValidationError as exc:
                call.future.set_exception(exc)
                return
            call.future.set_result(value)
            return
        error = to_error(answer.error, method=call.method, id=id)
        if error.retryable and call.safe and call.attempt + 1 < self._retry.attempts:
            delay = self._retry.delay(call.attempt, error.retry_after)
            call.attempt += 1
            asyncio.get_running_loop().call_later(delay, self.send, call)
            return
        call.future.set_exception(error)


def _envelope(method: str, params: Any, id: int) -> dict[str, Any]:
    if params is None:
        return {"jsonrpc": "2.0", "method": method, "id": id}
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": id}


def _plain(raw: msgspec.Raw | msgspec.UnsetType) -> Any:
    return None if isinstance(raw, msgspec.UnsetType) else msgspec.json.decode(raw)


def _is_json(response: aiohttp.ClientResponse) -> bool:
    return "json" in response.content_type


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
