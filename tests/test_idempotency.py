"""Idempotency-Key: a retried mutation runs once; its answer replays, shared by instances."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support import probe
from tests.support.world import Api, populate

AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def nap(seconds: float = 0, rid: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "probe.nap", "params": {"seconds": seconds}, "id": rid}


async def send(
    client: TestClient[Any, Any], body: Any, key: str | None, token: str = "user:@alice"
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response = await client.post("/rpc", data=json.dumps(body), headers=headers)
    text = await response.text()
    return response.status, dict(response.headers), json.loads(text) if text else None


async def test_a_repeat_replays_the_stored_answer_without_running(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    key = uuid.uuid4().hex
    before = len(probe.NAPS)
    first = await send(client, nap(), key)
    again = await send(client, nap(), key)
    assert first[0] == again[0] == 200
    assert again[2] == first[2] and "result" in first[2]
    assert again[1]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first[1]
    assert len(probe.NAPS) == before + 1  # ran once
    other = await send(client, nap(), key, token="user:@bob")  # keys are per caller
    assert "Idempotent-Replayed" not in other[1] and len(probe.NAPS) == before + 2


async def test_the_same_key_with_another_body_is_a_conflict(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    key = uuid.uuid4().hex
    await send(client, nap(0), key)
    status, _headers, body = await send(client, nap(0.001), key)
    assert status == 409
    assert body["error"]["data"]["code"] == "CONFLICT"
    assert body["error"]["data"]["reason"] == "idempotency_key_reused"


async def test_queries_ignore_the_key(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    key = uuid.uuid4().hex
    query = {"jsonrpc": "2.0", "method": "probe.sleep", "params": {"seconds": 0}, "id": 1}
    for _ in range(2):
        status, headers, body = await send(client, query, key)
        assert (status, body["result"]) == (200, 0)
        assert "Idempotent-Replayed" not in headers
    status, _headers, body = await send(client, nap(), key)  # a mutation may still take it
    assert status == 200 and "result" in body


async def test_a_repeat_while_the_first_runs_waits_or_is_told_to_retry(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    patient = await aiohttp_client(make_app())
    key = uuid.uuid4().hex
    first, second = await asyncio.gather(
        send(patient, nap(0.3), key), asyncio.sleep(0.05, send(patient, nap(0.3), key))
    )
    second = await second
    assert second[2] == first[2] and second[1]["Idempotent-Replayed"] == "true"

    hasty = await aiohttp_client(make_app(IDEMPOTENCY_WAIT_SECONDS="0.05"))
    key = uuid.uuid4().hex
    running = asyncio.create_task(send(hasty, nap(0.5), key))
    await asyncio.sleep(0.1)
    status, _headers, body = await send(hasty, nap(0.5), key)
    data = body["error"]["data"]
    assert (status, data["code"], data["reason"]) == (409, "CONFLICT", "in_progress")
    assert data["retryable"] is True and data["retryAfter"] > 0
    assert "result" in (await running)[2]


async def test_a_retryable_failure_frees_the_key_and_others_are_kept(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    key = uuid.uuid4().hex
    busy = {"jsonrpc": "2.0", "method": "probe.fail", "params": {"code": "TIMEOUT"}, "id": 1}
    await send(client, busy, key)
    _status, headers, _body = await send(client, busy, key)  # ran again: not replayed
    assert "Idempotent-Replayed" not in headers
    key = uuid.uuid4().hex
    gone = {"jsonrpc": "2.0", "method": "probe.fail", "params": {"code": "NOT_FOUND"}, "id": 1}
    first = await send(client, gone, key)
    again = await send(client, gone, key)
    assert again[1]["Idempotent-Replayed"] == "true" and again[2] == first[2]


async def test_answers_are_bounded_and_expire(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    small = await aiohttp_client(make_app(IDEMPOTENCY_MAX_BYTES="10"))
    key = uuid.uuid4().hex
    before = len(probe.NAPS)
    await send(small, nap(), key)
    status, _headers, body = await send(small, nap(), key)
    assert (status, body["error"]["data"]["reason"]) == (409, "answer_not_kept")
    assert len(probe.NAPS) == before + 1  # still never twice

    brief = await aiohttp_client(make_app(IDEMPOTENCY_TTL_SECONDS="1"))
    key = uuid.uuid4().hex
    await send(brief, nap(), key)
    await asyncio.sleep(1.1)
    status, headers, body = await send(brief, nap(0.001), key)  # expired: a new request
    assert status == 200 and "Idempotent-Replayed" not in headers
    from server.http.app import IDEMPOTENCY

    await asyncio.sleep(1.1)
    assert await brief.app[IDEMPOTENCY].purge() >= 1


async def test_a_malformed_key_is_refused(
    aiohttp_client: AppClient, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app())
    status, _headers, body = await send(client, nap(), "has space")
    assert status == 400
    assert body["error"]["data"]["issues"][0]["path"] == "Idempotency-Key"


async def test_two_instances_racing_on_one_key_run_it_once(
    make_api: Callable[[dict[str, str]], Awaitable[Api]], db_env: dict[str, str]
) -> None:
    """Two servers on one database (SQLite file, or PostgreSQL schema), one key sent to
    both at once, many times: exactly one intention is stored, every answer is the same."""
    first = await populate(await make_api(db_env))
    second = await make_api(db_env)
    token = first.token("@member")
    body = {
        "jsonrpc": "2.0",
        "method": "intention.create",
        "params": {"spaceId": "@hall", "content": "once"},
        "id": 7,
    }
    key = uuid.uuid4().hex
    answers = await asyncio.gather(
        *(send(api.client, body, key, token) for api in (first, second) * 6)
    )
    assert {a[0] for a in answers} == {200}
    assert len({json.dumps(a[2]) for a in answers}) == 1, answers
    replayed = [a for a in answers if a[1].get("Idempotent-Replayed") == "true"]
    assert len(replayed) == len(answers) - 1
    page = await first.ok("intention.list", {"spaceId": "@hall"}, as_="@member")
    assert [i["content"] for i in page["items"]] == ["once"]
