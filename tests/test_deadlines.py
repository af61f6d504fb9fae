"""X-Timeout-Ms: a call runs under the smaller of the caller's deadline and the server's."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.livekit_server import LiveKitServer
from tests.support.app import livekit_env
from tests.support.db import PgServer
from tests.support.world import Api, populate

AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
SLEEP = {"jsonrpc": "2.0", "method": "probe.sleep", "params": {"seconds": 3}, "id": 1}


async def post(client: TestClient[Any, Any], body: Any, **headers: str) -> tuple[int, Any]:
    headers["Content-Type"] = "application/json"
    response = await client.post("/rpc", data=json.dumps(body), headers=headers)
    return response.status, await response.json()


async def test_the_callers_deadline_cuts_a_call_short(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    started = time.monotonic()
    _status, body = await post(client, SLEEP, **{"X-Timeout-Ms": "150"})
    elapsed = time.monotonic() - started
    assert elapsed < 2  # not the 3 s the call wanted, nor the server's 30 s
    assert body["error"]["data"]["code"] == "TIMEOUT"
    assert body["error"]["data"]["retryable"] is True
    assert "0.15 s" in body["error"]["message"]


async def test_the_server_timeout_still_bounds_a_longer_deadline(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RPC_CALL_TIMEOUT="0.2"))
    _status, body = await post(client, SLEEP, **{"X-Timeout-Ms": "60000"})
    assert "0.2 s" in body["error"]["message"]


async def test_a_malformed_deadline_is_refused(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    for bad in ("soon", "-5", "0", "1.5"):
        status, body = await post(client, SLEEP, **{"X-Timeout-Ms": bad})
        assert status == 400, bad
        assert body["error"]["data"]["issues"][0]["path"] == "X-Timeout-Ms"


async def test_a_deadline_cancels_the_livekit_call_it_waits_on(
    make_api: Callable[[dict[str, str]], Awaitable[Api]],
    db_env: dict[str, str],
    livekit_server: LiveKitServer,
) -> None:
    api = await populate(
        await make_api({**db_env, **livekit_env(livekit_server, LIVEKIT_CALL_TIMEOUT="5")})
    )
    livekit_server.slow(3)
    token = api.token("@mod")
    body = {
        "jsonrpc": "2.0",
        "method": "livekit.listParticipants",
        "params": {"roomBeingId": "@hall"},
        "id": 1,
    }
    started = time.monotonic()
    _status, answer = await post(
        api.client, body, Authorization=f"Bearer {token}", **{"X-Timeout-Ms": "200"}
    )
    assert time.monotonic() - started < 2
    assert answer["error"]["data"]["code"] == "TIMEOUT"
    livekit_server.slow(0)


async def test_a_deadline_cancels_the_database_query_it_waits_on(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application], pg: PgServer | None
) -> None:
    if pg is None:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
    env = {"DATABASE_URL": pg.url, "DATABASE_SCHEMA": pg.new_schema()}
    client = await aiohttp_client(make_app(**env))
    body = {"jsonrpc": "2.0", "method": "probe.dbSleep", "params": {"seconds": 7.321}, "id": 1}
    running = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(7.321)%' "
    running += "AND state = 'active' AND pid <> pg_backend_pid()"
    conn = await asyncpg.connect(pg.url)
    try:
        started = time.monotonic()
        call = asyncio.create_task(post(client, body, **{"X-Timeout-Ms": "1500"}))
        await asyncio.sleep(0.7)
        assert await conn.fetchval(running) == 1  # the query is sleeping in PostgreSQL
        _status, answer = await call
        assert answer["error"]["data"]["code"] == "TIMEOUT"
        assert time.monotonic() - started < 4
        for _ in range(20):  # PostgreSQL ends a cancelled query within moments
            if await conn.fetchval(running) == 0:
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval(running) == 0  # cancelled, not left sleeping
    finally:
        await conn.close()
