"""The Python client against ``roomrpc serve`` in its own process, over real sockets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from roomrpc.client import (
    ERROR_CLASSES,
    BadRequest,
    Client,
    Conflict,
    Forbidden,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RetryPolicy,
    RpcError,
    ServiceUnavailable,
    SyncClient,
    Unauthorized,
)
from schema.being import Being, BeingPage, GetBeingInput
from schema.errors import ERRORS, ErrorName
from schema.intention import CreateIntentionInput, Intention
from tests.support.served import Served

FAST = RetryPolicy(attempts=4, base=0.05, cap=0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with Served(tmp_path_factory.mktemp("served")) as server:
        yield server


def counting_session() -> tuple[aiohttp.ClientSession, list[str]]:
    """A session that records every HTTP request it really sends (aiohttp's own tracing)."""
    sent: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append(params.method)

    trace.on_request_start.append(on_start)
    return aiohttp.ClientSession(trace_configs=[trace]), sent


@pytest.fixture
async def alice(served: Served) -> AsyncIterator[Client]:
    async with Client(served.url, token=served.token("@alice"), retry=FAST) as client:
        yield client


# --- typed calls ----------------------------------------------------------------------------


async def test_a_call_returns_the_contracts_struct(alice: Client) -> None:
    space = await alice.being.get(id="@demo-space")
    assert isinstance(space, Being)
    assert (space.id, space.type, space.owner_id) == ("@demo-space", "space", "@alice")


async def test_input_as_a_struct_or_as_keywords(alice: Client) -> None:
    said = await alice.intention.create(CreateIntentionInput(space_id="@demo-space", content="a"))
    also = await alice.intention.create(spaceId="@demo-space", content="b", kind="action")
    assert isinstance(said, Intention) and isinstance(also, Intention)
    assert (said.content, also.kind, also.id) == ("a", "action", said.id + 1)
    page = await alice.being.list(type="space", limit=1)
    assert isinstance(page, BeingPage) and len(page.items) == 1 and page.next_cursor
    with pytest.raises(TypeError, match="not both"):
        await alice.being.get(GetBeingInput(id="@alice"), id="@bob")  # type: ignore[call-overload]


async def test_untyped_request_by_name(alice: Client) -> None:
    me = await alice.request("auth.me")
    assert me["being"]["id"] == "@alice"


async def test_a_token_callable_is_asked_each_time(served: Served) -> None:
    who = ["@alice"]
    async with Client(served.url, token=lambda: served.token(who[0])) as c:
        assert (await c.auth.me()).being.id == "@alice"
        who[0] = "@bob"
        assert (await c.auth.me()).being.id == "@bob"


def test_sync_client_for_scripts(served: Served) -> None:
    with SyncClient(served.url, token=served.token("@bob")) as bob:
        me = bob.auth.me()
        assert me.being.id == "@bob"
        with pytest.raises(NotFound):
            bob.being.get(id="@alice-private")
        assert bob.request("system.health")["status"] == "ok"


# --- batching -------------------------------------------------------------------------------


async def test_same_tick_calls_are_one_http_request(served: Served) -> None:
    session, sent = counting_session()
    async with session, Client(served.url, token=served.token("@alice"), session=session) as c:
        results = await asyncio.gather(
            c.being.get(id="@alice"),
            c.being.get(id="@demo-space"),
            c.auth.me(),
            c.system.health(),
            c.being.get(id="@nobody"),
            return_exceptions=True,
        )
        assert sent == ["POST"]
        assert c.requests == 1
        alice, space, me, health, missing = results
        assert isinstance(alice, Being) and alice.id == "@alice"
        assert isinstance(space, Being) and space.id == "@demo-space"
        assert me.being.id == "@alice"  # type: ignore[union-attr]
        assert health.status == "ok"  # type: ignore[union-attr]
        assert isinstance(missing, NotFound)
        await c.being.get(id="@bob")  # the next tick is the next request
        assert sent == ["POST", "POST"]
        said, seen = await asyncio.gather(
            c.intention.create(spaceId="@demo-space", content="keyed, so alone"),
            c.being.get(id="@alice"),
        )
        assert said.content == "keyed, so alone" and seen.id == "@alice"
        assert len(sent) == 4  # a mutation carries its own key: a request of its own


async def test_a_batch_past_max_batch_is_split(served: Served) -> None:
    session, sent = counting_session()
    async with session, Client(served.url, session=session, max_batch=3) as c:
        got = await asyncio.gather(*(c.being.get(id=i) for i in ["@alice", "@bob"] * 4))
        assert [b.id for b in got] == ["@alice", "@bob"] * 4
        assert len(sent) == 3


# --- errors: one class, a subclass per named code -------------------------------------------


def test_every_named_code_has_its_class() -> None:
    assert set(ERROR_CLASSES) == set(ERRORS)
    for name, cls in ERROR_CLASSES.items():
        assert issubclass(cls, RpcError) and cls.name == name


async def expect(call: Any, cls: type[RpcError]) -> RpcError:
    with pytest.raises(cls) as caught:
        await call
    error = caught.value
    assert error.name == cls.name and error.code == ERRORS[cls.name].code
    assert error.request_id and error.data["code"] == cls.name
    return error


async def test_error_kinds_from_the_server(served: Served, alice: Client) -> None:
    bob = Client(served.url, token=served.token("@bob"), retry=FAST)
    admin = Client(served.url, token=served.token("@alice", admin=True), retry=FAST)
    stranger = Client(served.url, token="not-a-jwt", retry=FAST)
    async with bob, admin, stranger:
        missing = await expect(alice.being.get(id="@nope"), NotFound)
        assert missing.method == "being.get" and isinstance(missing.id, int)
        assert missing.reason == "no_such_being"
        await expect(stranger.system.health(), Unauthorized)
        await expect(bob.being.update(id="@demo-space", name="Mine"), Forbidden)
        await expect(alice.being.create(id="@bob", name="B", type="bot"), Conflict)
        await expect(admin.being.delete(id="@alice"), PreconditionFailed)
        bad = await expect(alice.being.get(id="No Id"), InvalidParams)
        assert bad.data["issues"][0]["path"] == "$.id"
        await expect(alice.request("being.nothing"), MethodNotFound)
        await expect(alice.request("being.get", "not params"), InvalidRequest)
        await expect(alice.request("being.get", {"id": "@" + "x" * 2_000_000}), PayloadTooLarge)
        join = {"roomBeingId": "@demo-space"}  # presence lives on a socket, not over POST
        await expect(alice.request("presence.join", join, mutation=True), BadRequest)


# --- retries --------------------------------------------------------------------------------


class Proxy:
    """A real HTTP hop in front of the real server that can refuse or drop answers."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.keys: list[str | None] = []
        self.bodies: list[bytes] = []
        self.refuse = 0  # answer SERVICE_UNAVAILABLE (retryable, retryAfter) this many times
        self.drop = 0  # forward, then drop the connection without the answer, this many times
        self.retry_after = 0.0
        self.answer: ErrorName | None = None  # answer every call with this error of the table

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.keys.append(request.headers.get("Idempotency-Key"))
        body = await request.read()
        self.bodies.append(body)
        if self.answer is not None:
            spec = ERRORS[self.answer]
            data = {"code": self.answer, "httpStatus": spec.http_status, "requestId": "proxy-1"}
            error: dict[str, Any] = {"code": spec.code, "message": spec.message, "data": data}
            return web.json_response(
                {"jsonrpc": "2.0", "error": error, "id": json.loads(body)["id"]}
            )
        if self.refuse:
            self.refuse -= 1
            refused = {"code": "SERVICE_UNAVAILABLE", "httpStatus": 503, "retryable": True}
            refused["retryAfter"] = self.retry_after
            error = {"code": -32053, "message": "Service unavailable", "data": refused}
            return web.json_response(
                {"jsonrpc": "2.0", "error": error, "id": json.loads(body)["id"]}
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.upstream, data=body, headers=headers) as answer,
        ):
            payload = await answer.read()
        if self.drop:
            self.drop -= 1
            assert request.transport is not None
            request.transport.close()  # the server ran it; the client never hears
            return web.Response()
        return web.Response(body=payload, content_type="application/json")


@pytest.fixture
async def proxy(served: Served) -> AsyncIterator[tuple[Proxy, str]]:
    hop = Proxy(served.url)
    app = web.Application()
    app.router.add_post("/rpc", hop.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield hop, f"http://127.0.0.1:{port}/rpc"
    await runner.cleanup()


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_each_error_of_the_table_raises_its_class(
    name: ErrorName, proxy: tuple[Proxy, str]
) -> None:
    """Every row, as a server answers it over HTTP; the server's own above give most."""
    hop, url = proxy
    hop.answer = name
    retry = RetryPolicy(attempts=1)  # SERVICE_UNAVAILABLE and TOO_MANY_REQUESTS: no retry
    async with Client(url, retry=retry) as c:
        error = await expect(c.system.health(), ERROR_CLASSES[name])
    assert error.request_id == "proxy-1" and error.method == "system.health"


async def test_retryable_errors_are_retried_after_retry_after(
    served: Served, proxy: tuple[Proxy, str]
) -> None:
    hop, url = proxy
    hop.refuse, hop.retry_after = 2, 0.3
    async with Client(url, token=served.token("@alice"), retry=FAST) as c:
        started = time.monotonic()
        space = await c.being.get(id="@demo-space")
        assert space.id == "@demo-space"
        assert time.monotonic() - started >= 0.6  # twice at least retryAfter
        assert len(hop.keys) == 3 and hop.keys == [None] * 3  # queries carry no key


async def test_a_mutation_is_retried_with_the_same_idempotency_key(
    served: Served, proxy: tuple[Proxy, str]
) -> None:
    hop, url = proxy
    hop.drop = 1
    async with Client(url, token=served.token("@alice"), retry=FAST) as c:
        said = await c.intention.create(spaceId="@demo-space", content="once, keyed")
        assert said.content == "once, keyed"
        hop.refuse = 1  # a retryable answer, then the same request again
        await c.intention.create(spaceId="@demo-space", content="refused first")
    first, second, third, fourth = hop.keys
    assert first and first == second and third and third == fourth and first != third
    assert hop.bodies[0] == hop.bodies[1] and hop.bodies[2] == hop.bodies[3]  # the same body


async def keeps_answers_by_key(url: str, token: str) -> bool:
    """Whether the server replays a keyed request's answer (``Idempotent-Replayed``)."""
    body = {"jsonrpc": "2.0", "method": "intention.create", "id": 1}
    body["params"] = {"spaceId": "@demo-space", "content": "key probe"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "probe-key"}
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.post(url, json=body, headers=headers) as answer:
                replayed = answer.headers.get("Idempotent-Replayed") == "true"
    return replayed


async def test_a_mutation_whose_answer_was_lost_runs_once(
    served: Served, proxy: tuple[Proxy, str]
) -> None:
    hop, url = proxy
    token = served.token("@alice")
    if not await keeps_answers_by_key(served.url, token):
        pytest.skip("this server ignores Idempotency-Key (it keeps no answers by key)")
    hop.drop = 1
    async with Client(url, token=token, retry=FAST) as c:
        said = await c.intention.create(spaceId="@demo-space", content="lost answer, once")
        page = await c.intention.list(spaceId="@demo-space", limit=20)
    assert [i.id for i in page.items if i.content == "lost answer, once"] == [said.id]


async def test_a_chosen_idempotency_key(served: Served, proxy: tuple[Proxy, str]) -> None:
    hop, url = proxy
    async with Client(url, token=served.token("@alice"), retry=FAST) as c:
        with c.idempotency_key("reply-to-7"):
            await c.intention.create(spaceId="@demo-space", content="chosen key")
        await c.intention.create(spaceId="@demo-space", content="fresh key")
    assert hop.keys[0] == "reply-to-7" and hop.keys[1] not in (None, "reply-to-7")


async def test_no_key_no_retry_for_a_mutation(served: Served, proxy: tuple[Proxy, str]) -> None:
    hop, url = proxy
    hop.refuse = 1
    token = served.token("@alice")
    async with Client(url, token=token, retry=FAST, idempotency=False) as c:
        with pytest.raises(ServiceUnavailable) as caught:
            await c.intention.create(spaceId="@demo-space", content="not retried")
        assert caught.value.retryable and caught.value.retry_after == 0.0
        assert hop.keys == [None]


async def test_retries_give_up_after_their_attempts(
    served: Served, proxy: tuple[Proxy, str]
) -> None:
    hop, url = proxy
    hop.refuse = 10
    async with Client(url, retry=RetryPolicy(attempts=3, base=0.01, cap=0.01)) as c:
        with pytest.raises(ServiceUnavailable):
            await c.system.health()
    assert len(hop.keys) == 3


def test_a_query_rides_out_a_server_restart(tmp_path: Path) -> None:
    """A call made while the server is down is retried until it is back, on the same file."""
    with Served(tmp_path) as server:
        retry = RetryPolicy(attempts=30, base=0.1, cap=0.5)
        with SyncClient(server.url, token=server.token("@alice"), retry=retry) as alice:
            said = alice.intention.create(spaceId="@demo-space", content="before")
            server.stop()
            comeback = threading.Timer(1.0, server.start)
            comeback.start()
            page = alice.intention.list(spaceId="@demo-space", limit=1)
            comeback.join()
            assert page.items[0].id == said.id  # the same database file, after the restart
