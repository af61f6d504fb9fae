"""``Client`` (async) and ``SyncClient`` (blocking): the contract's namespaces, served remotely."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import aiohttp
import msgspec

from roomrpc.client._generated import Namespaces, SyncNamespaces
from roomrpc.client._http import Call, HttpTransport
from roomrpc.client._live import SOCKET_CALLS, Live
from roomrpc.client._subscription import Subscription, SyncSubscription
from roomrpc.client._wire import RetryPolicy
from schema._procedure import Procedure

__all__ = ["Client", "SyncClient"]

In = TypeVar("In")
Out = TypeVar("Out")
T = TypeVar("T")


class _Caller:
    """Turns a generated method's call into a queued call or a subscription."""

    def __init__(self, http: HttpTransport, live: Live, idempotency: bool) -> None:
        self.http = http
        self.live = live
        self._idempotency = idempotency
        self._decoders: dict[str, msgspec.json.Decoder[Any]] = {}

    def decoder(self, name: str, t: Any) -> msgspec.json.Decoder[Any]:
        found = self._decoders.get(name)
        if found is None:  # built once per procedure, on first use
            found = self._decoders[name] = msgspec.json.Decoder(t)
        return found

    def call(
        self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]
    ) -> Awaitable[Out]:
        decoder = self.decoder(proc.name, proc.output)
        if proc.name in SOCKET_CALLS:  # presence lives as long as the socket that made it
            return self.live.call(proc.name, _params(input, params), decoder)
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        mutation = proc.kind == "mutation"
        key = _key() if mutation and self._idempotency else None
        self.http.send(
            Call(
                proc.name,
                _params(input, params),
                decoder,
                future,
                key=key,
                safe=key is not None or not mutation,
            )
        )
        return future

    def request(self, method: str, params: Any, *, mutation: bool) -> Awaitable[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        key = _key() if mutation and self._idempotency else None
        self.http.send(
            Call(method, params, None, future, key=key, safe=key is not None or not mutation)
        )
        return future

    def subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> Subscription[Any]:
        wire = _params(input, params)
        as_dict = msgspec.to_builtins(wire) if not isinstance(wire, dict) else dict(wire)
        return Subscription(self.live, proc.name, as_dict, self.decoder(proc.name, proc.event))


_CHOSEN_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("key", default=None)


def _key() -> str:
    return _CHOSEN_KEY.get() or str(uuid.uuid4())


def _params(input: Any, params: dict[str, Any]) -> Any:
    if input is not None and params:
        raise TypeError("pass the input Struct or keyword arguments, not both")
    return input if input is not None else params


class Client(Namespaces):
    """The async client: ``await client.being.get(id="@demo-space")`` returns a ``Being``.

    Calls made in one loop iteration go out as one batch. Queries, and mutations
    (each carries an ``Idempotency-Key``), are retried with backoff on network
    failures and retryable errors. ``client.intention.watch(spaceId=...)`` is an
    async iterator over a WebSocket that reconnects and resumes by itself.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | Callable[[], str] | None = None,
        headers: dict[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        max_batch: int = 100,
        idempotency: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.token = token
        self._extra = dict(headers or {})
        self._session = session
        self._own_session = session is None
        self._timeout = timeout
        retry = retry or RetryPolicy()
        http = HttpTransport(
            url, self._get_session, self._headers, retry=retry, max_batch=max_batch
        )
        live = Live(url, self._get_session, self._headers, retry=retry)
        self._caller = _Caller(http, live, idempotency)
        super().__init__(self._caller)

    @property
    def requests(self) -> int:
        """HTTP requests this client has sent (a batch is one)."""
        return self._caller.http.requests

    @property
    def connects(self) -> int:
        """WebSockets this client has opened (one more after each reconnect)."""
        return self._caller.live.connects

    def request(self, method: str, params: Any = None, *, mutation: bool = False) -> Awaitable[Any]:
        """An untyped call by name, batched and retried like the typed ones; the result as JSON."""
        return self._caller.request(method, params, mutation=mutation)

    @staticmethod
    @contextlib.contextmanager
    def idempotency_key(key: str) -> Iterator[None]:
        """Mutations called inside the block carry ``key``, not a fresh one: a key made
        from what the mutation answers (``f"reply-{intention.id}"``) makes it run once
        even when it is sent again by a process that restarted."""
        token = _CHOSEN_KEY.set(key)
        try:
            yield
        finally:
            _CHOSEN_KEY.reset(token)

    def _headers(self) -> dict[str, str]:
        headers = dict(self._extra)
        token = self.token() if callable(self.token) else self.token
        if token is not None:  # a callable is asked on every request and every (re)connect
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_read=self._timeout)
            )
        return self._session

    async def close(self) -> None:
        """Stop every subscription and close the connections this client opened."""
        await self._caller.live.close()
        if self._own_session and self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _SyncCaller:
    def __init__(self, client: SyncClient) -> None:
        self._client = client

    def call(self, proc: Procedure[In, Out], input: In | None, params: dict[str, Any]) -> Out:
        async def run() -> Out:
            return await self._client._async._caller.call(proc, input, params)

        return self._client._run(run())

    def subscribe(
        self, proc: Procedure[In, Any], input: In | None, params: dict[str, Any]
    ) -> SyncSubscription[Any]:
        async def make() -> Subscription[Any]:
            return self._client._async._caller.subscribe(proc, input, params)

        return SyncSubscription(self._client._run(make()), self._client._loop)


async def _awaited(make: Any) -> Any:
    return await make()


class SyncClient(SyncNamespaces):
    """The blocking client for scripts: ``SyncClient(url, token=...).being.get(id=...)``.

    It runs an async :class:`Client` on a private event loop in a daemon thread;
    ``close()`` (or ``with``) stops both.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="roomrpc-client", daemon=True
        )
        self._thread.start()

        async def make() -> Client:
            return Client(url, **options)

        self._async = self._run(make())
        # Closed by close(), or when collected or at exit: a one-line script leaks nothing.
        self._finalizer = weakref.finalize(self, _shutdown, self._loop, self._thread, self._async)
        super().__init__(_SyncCaller(self))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def request(self, method: str, params: Any = None, *, mutation: bool = False) -> Any:
        """An untyped call by name; the result as JSON."""
        return self._run(_awaited(lambda: self._async.request(method, params, mutation=mutation)))

    def close(self) -> None:
        """Close the client, stop its loop and its thread."""
        self._finalizer()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shutdown(loop: asyncio.AbstractEventLoop, thread: threading.Thread, client: Client) -> None:
    if loop.is_closed():
        return
    asyncio.run_coroutine_threadsafe(client.close(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
