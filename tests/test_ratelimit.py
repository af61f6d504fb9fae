"""Rate limits: per caller and class of call, each call of a batch counted, 429 when all are."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from server.http.app import RATE_LIMITS

AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def call(method: str = "probe.echo", rid: int = 1, **params: Any) -> dict[str, Any]:
    if method == "probe.echo":
        params.setdefault("roomBeingId", "@x")
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}


async def send(
    client: TestClient[Any, Any], body: Any, who: str | None = "@alice"
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if who is not None:
        headers["Authorization"] = f"Bearer user:{who}"
    response = await client.post("/rpc", data=json.dumps(body), headers=headers)
    return response.status, dict(response.headers), await response.json()


async def test_a_caller_over_its_limit_is_told_when_to_retry(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMIT_READS="3/minute"))
    for _ in range(3):
        assert (await send(client, call()))[0] == 200
    status, headers, body = await send(client, call())
    data = body["error"]["data"]
    assert (status, data["code"], data["reason"], data["retryable"]) == (
        429,
        "TOO_MANY_REQUESTS",
        "rate_limited",
        True,
    )
    assert 0 < data["retryAfter"] <= 60
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["RateLimit-Limit"] == "3" and headers["RateLimit-Remaining"] == "0"
    assert headers["RateLimit-Policy"] == "3;w=60"
    assert (await send(client, call(), who="@bob"))[0] == 200  # others are not limited
    write = call("probe.nap", seconds=0)
    assert (await send(client, write))[0] == 200  # writes have their own limit


async def test_a_batch_counts_each_call(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMIT_READS="3/minute"))
    status, headers, answers = await send(client, [call(rid=i) for i in range(5)])
    assert status == 200 and "Retry-After" not in headers  # some calls ran
    codes = [a.get("error", {}).get("data", {}).get("code", "ok") for a in answers]
    assert codes == ["ok", "ok", "ok", "TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"]
    status, headers, answers = await send(client, [call(rid=i) for i in range(2)])
    assert status == 429 and "Retry-After" in headers  # none did


async def test_a_batch_counts_each_class_in_the_order_of_its_calls(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(
        make_app(RATE_LIMIT_READS="2/minute", RATE_LIMIT_WRITES="1/minute")
    )
    write = call("probe.nap", seconds=0)
    batch = [
        call(rid=1),
        write,
        call(rid=3),
        {"foo": 1},
        call("no.such", rid=5),
        write,
        call(rid=7),
    ]
    status, _headers, answers = await send(client, batch)
    codes = [a.get("error", {}).get("data", {}).get("code", "ok") for a in answers]
    assert status == 200
    assert codes == [
        "ok",
        "ok",
        "ok",
        "INVALID_REQUEST",
        "METHOD_NOT_FOUND",  # not counted: nothing runs
        "TOO_MANY_REQUESTS",
        "TOO_MANY_REQUESTS",
    ]
    assert (await send(client, call()))[0] == 429  # the reads of the window are used up


async def test_anonymous_callers_are_counted_by_address(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMIT_READS="2/minute"))
    for _ in range(2):
        assert (await send(client, call(), who=None))[0] == 200
    assert (await send(client, call(), who=None))[0] == 429
    assert (await send(client, call(), who="@carol"))[0] == 200


async def test_limits_in_redis_are_shared_by_instances(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    env = {"RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379", "RATE_LIMIT_WRITES": "3/minute"}
    one, two = [await aiohttp_client(make_app(**env)) for _ in range(2)]
    who = f"@t{uuid.uuid4().hex[:12]}"  # Redis is shared: a caller of this run only
    write = call("probe.nap", seconds=0)
    assert [(await send(c, write, who))[0] for c in (one, two, one)] == [200, 200, 200]
    status, _headers, body = await send(two, write, who)
    assert status == 429 and body["error"]["data"]["retryAfter"] > 0


async def test_a_batch_counts_in_redis_as_its_calls_would_one_by_one(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    env = {"RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379", "RATE_LIMIT_WRITES": "3/minute"}
    one, two = [await aiohttp_client(make_app(**env)) for _ in range(2)]
    who = f"@t{uuid.uuid4().hex[:12]}"
    writes = [call("probe.nap", rid=i, seconds=0) for i in range(2)]
    status, _headers, answers = await send(one, writes, who)
    assert status == 200 and all("result" in a for a in answers)
    status, _headers, answers = await send(two, writes, who)
    assert status == 200 and "result" in answers[0]
    assert answers[1]["error"]["data"]["code"] == "TOO_MANY_REQUESTS"
    assert answers[1]["error"]["data"]["retryAfter"] > 0
    status, headers, _answers = await send(one, writes, who)
    assert status == 429 and "Retry-After" in headers


async def test_sockets_and_subscriptions_have_limits_of_their_own(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMIT_SOCKETS="2/minute"))
    limits = client.app[RATE_LIMITS]
    assert [await limits.admit("socket", "@alice") is None for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert await limits.admit("subscription", "@alice") is None
    assert (await send(client, call()))[0] == 200  # calls are counted apart


async def test_a_flood_from_one_caller_leaves_the_others_served(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    """Bounded: 400 calls from @flood at once, 20 from @quiet among them."""
    client = await aiohttp_client(make_app(RATE_LIMIT_READS="50/minute"))
    flood = [send(client, call(), "@flood") for _ in range(400)]
    quiet = [send(client, call(), "@quiet") for _ in range(20)]
    answers = await asyncio.gather(*flood, *quiet)
    flooded = [a[0] for a in answers[:400]]
    assert flooded.count(200) == 50 and flooded.count(429) == 350
    assert [a[0] for a in answers[400:]] == [200] * 20


async def test_limits_can_be_turned_off(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMITS="false", RATE_LIMIT_READS="1/minute"))
    assert [(await send(client, call()))[0] for _ in range(3)] == [200] * 3
    assert RATE_LIMITS not in client.app


async def test_a_window_passes_and_the_caller_is_served_again(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RATE_LIMIT_READS="2/second"))
    assert [(await send(client, call()))[0] for _ in range(3)] == [200, 200, 429]
    await asyncio.sleep(1.1)
    assert (await send(client, call()))[0] == 200
    limits = client.app[RATE_LIMITS]
    await asyncio.sleep(1.1)
    limits.expire()  # what the app's cleanup task does: counters of quiet callers go
    assert (await send(client, call()))[0] == 200
