"""POST /rpc as HTTP: media type, size and batch limits, timeouts, statuses, CORS, request ids."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.app import Post

pytestmark = pytest.mark.spec_examples  # the calls below are the spec's example methods

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
CALL = {"jsonrpc": "2.0", "method": "get_data", "id": 1}


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/xml", "text/html"])
async def test_wrong_content_type_is_415_with_a_jsonrpc_body(
    client: TestClient[Any, Any], content_type: str
) -> None:
    headers = {"Content-Type": content_type}
    response = await client.post("/rpc", data=json.dumps(CALL), headers=headers)
    assert response.status == 415
    body = await response.json()
    assert body["id"] is None
    assert body["error"]["code"] == -32015
    assert body["error"]["data"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


SPEC_CALL = b'{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json-rpc",
        "application/jsonrequest",
        "application/vnd.example+json; charset=utf-8",
        "text/plain;charset=UTF-8",  # fetch, and aiohttp with a str body
        "application/octet-stream",  # aiohttp with a bytes body
        "application/x-www-form-urlencoded",  # curl -d without -H, urllib
    ],
)
async def test_bodies_sent_without_a_json_type_are_read_as_json(
    client: TestClient[Any, Any], content_type: str
) -> None:
    response = await client.post("/rpc", data=SPEC_CALL, headers={"Content-Type": content_type})
    assert response.status == 200
    assert await response.read() == b'{"jsonrpc":"2.0","result":19,"id":1}'


async def test_a_body_without_content_type_is_read_as_json(client: TestClient[Any, Any]) -> None:
    # what requests (data=...) and httpx (content=...) send: no Content-Type at all
    response = await client.post("/rpc", data=SPEC_CALL, skip_auto_headers=["Content-Type"])
    assert response.status == 200
    assert await response.read() == b'{"jsonrpc":"2.0","result":19,"id":1}'


async def test_json_with_charset_is_accepted(post: Post) -> None:
    status, body = await post(CALL, **{"Content-Type": "application/json; charset=utf-8"})
    assert (status, body["result"]) == (200, ["hello", 5])


async def test_body_over_the_limit_is_413(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_BODY_BYTES="2048"))
    big = {"jsonrpc": "2.0", "method": "get_data", "params": {"pad": "x" * 4096}, "id": 1}
    response = await client.post(
        "/rpc", data=json.dumps(big), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    body = await response.json()
    assert body["error"]["code"] == -32013
    assert body["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "2048" in body["error"]["message"]
    # the server keeps serving
    response = await client.post("/rpc", json=CALL)
    assert (await response.json())["result"] == ["hello", 5]


async def test_chunked_body_over_the_limit_is_413(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_BODY_BYTES="2048"))

    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1024

    response = await client.post(
        "/rpc", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == -32013


async def test_declared_length_over_the_limit_is_413_before_the_body(
    aiohttp_client: Client, make_app: Any
) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_BODY_BYTES="2048"))
    sent = 0

    async def slowly() -> Any:  # the answer comes before the rest of the body is sent
        nonlocal sent
        for _ in range(10):
            sent += 1
            yield b" " * 1024
            await asyncio.sleep(0.05)

    headers = {"Content-Type": "application/json", "Content-Length": "10240"}
    response = await client.post("/rpc", data=slowly(), headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE"
    assert sent <= 2  # refused on the declared length: reading would take 3 pieces


async def test_chunked_body_in_pieces_is_served(client: TestClient[Any, Any]) -> None:
    body = json.dumps([CALL, {**CALL, "id": 2}]).encode()

    async def pieces() -> Any:  # still arriving when the handler starts
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    response = await client.post(
        "/rpc", data=pieces(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 200
    assert [r["id"] for r in await response.json()] == [1, 2]


async def test_gzip_body_is_read_decompressed(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_BODY_BYTES="2048"))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await client.post(
        "/rpc", data=gzip.compress(json.dumps(CALL).encode()), headers=headers
    )
    assert (await response.json())["result"] == ["hello", 5]
    big = {"jsonrpc": "2.0", "method": "get_data", "params": {"pad": " " * 8192}, "id": 1}
    packed = gzip.compress(json.dumps(big).encode())
    assert len(packed) < 2048  # small on the wire, over the limit once decompressed
    response = await client.post("/rpc", data=packed, headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_batch_over_the_limit(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_BATCH="3"))
    response = await client.post("/rpc", json=[CALL] * 4)
    assert response.status == 413
    body = await response.json()
    assert body["error"]["code"] == -32013
    assert body["error"]["message"] == "Batch of 4 calls; at most 3 allowed"
    response = await client.post("/rpc", json=[CALL] * 3)
    assert len(await response.json()) == 3


async def test_slow_call_times_out_on_its_own(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(RPC_CALL_TIMEOUT="0.2"))
    response = await client.post(
        "/rpc",
        json=[
            {"jsonrpc": "2.0", "method": "probe.sleep", "params": {"seconds": 5}, "id": 1},
            {"jsonrpc": "2.0", "method": "probe.sleep", "params": {"seconds": 0.01}, "id": 2},
        ],
    )
    slow, fast = await response.json()
    assert slow["error"]["code"] == -32008
    assert slow["error"]["data"]["code"] == "TIMEOUT"
    assert slow["error"]["data"]["retryable"] is True
    assert fast == {"jsonrpc": "2.0", "result": 0.01, "id": 2}


async def test_notification_only_is_204_without_body(client: TestClient[Any, Any]) -> None:
    response = await client.post("/rpc", json={"jsonrpc": "2.0", "method": "get_data"})
    assert response.status == 204
    assert await response.read() == b""


async def test_get_is_not_allowed(client: TestClient[Any, Any]) -> None:
    response = await client.get("/rpc")
    assert response.status == 405


async def test_request_id_is_echoed_or_made(client: TestClient[Any, Any]) -> None:
    response = await client.post("/rpc", json=CALL, headers={"X-Request-Id": "abc-1"})
    assert response.headers["X-Request-Id"] == "abc-1"
    response = await client.post("/rpc", json=CALL, headers={"X-Request-Id": "bad id\u00e9"})
    assert response.headers["X-Request-Id"] != "bad id\u00e9"
    assert response.headers["X-Request-Id"]


async def test_no_cors_by_default_and_the_log_says_why(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    vite = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    with caplog.at_level("WARNING", logger="roomrpc.cors"):
        response = await client.post("/rpc", json=CALL, headers={"Origin": vite["Origin"]})
        assert "Access-Control-Allow-Origin" not in response.headers
        for _ in range(3):
            response = await client.options("/rpc", headers=vite)
            assert response.status == 403
            assert "CORS_ORIGINS" in await response.text()
        # the explorer's own page is same-origin: never refused, never logged
        own = f"http://{client.server.host}:{client.server.port}"
        response = await client.post("/rpc", json=CALL, headers={"Origin": own})
    warnings = [r.getMessage() for r in caplog.records if r.name == "roomrpc.cors"]
    assert len(warnings) == 1  # once a minute for an origin, not once a request
    assert "http://localhost:5173" in warnings[0] and "CORS_ORIGINS" in warnings[0]


async def test_cors_for_a_vite_dev_server(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(CORS_ORIGINS="http://localhost:5173"))
    preflight = await client.options(
        "/rpc",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization,traceparent",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


async def test_cors_for_configured_origins(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(CORS_ORIGINS="https://app.example, https://b.example"))
    preflight = await client.options(
        "/rpc",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = await client.post("/rpc", json=CALL, headers={"Origin": "https://b.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://b.example"
    response = await client.post("/rpc", json=CALL, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    refused = await client.options("/rpc", headers={"Origin": "https://evil.example"})
    assert refused.status == 403


async def test_healthz_and_readyz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["status"] == "ready"


async def test_readyz_reports_a_failing_dependency(aiohttp_client: Client, make_app: Any) -> None:
    from server.http.health import READY_CHECKS

    app = make_app()

    async def database() -> None:
        raise ConnectionRefusedError("password=hunter2")

    app[READY_CHECKS]["database"] = database
    client = await aiohttp_client(app)
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body == {"status": "unavailable", "checks": {"database": "unavailable"}}
