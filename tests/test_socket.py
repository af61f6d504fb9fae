"""The WebSocket and SSE transports with the rest of the product, over real sockets:
frame members for retries and deadlines, rate limits, metrics, the access log, traces."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.http.observe import METRICS
from server.http.socket import LIVE
from tests.support import probe
from tests.support.sockets import WsRpc, read_sse
from tests.support.world import Api, populate

Client = Callable[..., Awaitable[TestClient[Any, Any]]]
MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
_SSE = {"Accept": "text/event-stream", "Content-Type": "application/json"}


def _call(method: str, params: Any = None, id: Any = 1, **members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id, **members}
    if params is not None:
        body["params"] = params
    return body


async def _world(make_api: MakeApi, db_env: dict[str, str], **env: str) -> Api:
    return await populate(await make_api({**db_env, **env}))


async def _families(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.get("/metrics")
    return {f.name: f for f in text_string_to_metric_families(await response.text())}


def _value(families: dict[str, Any], name: str, **labels: str) -> float:
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def _gauges(client: TestClient[Any, Any]) -> tuple[float, float]:
    families = await _families(client)
    return _value(families, "roomrpc_ws_connections"), _value(families, "roomrpc_subscriptions")


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


# --- idempotencyKey and timeoutMs beside jsonrpc ---


async def test_a_frames_idempotency_key_runs_a_mutation_once(
    aiohttp_client: Client, make_app: Any, tmp_path: Any
) -> None:
    client = await aiohttp_client(make_app(DATA_DIR=str(tmp_path)))
    ws = await WsRpc.connect(client, token="user:@alice")
    naps = len(probe.NAPS)
    await ws.send(_call("probe.nap", {"seconds": 0}, "a", idempotencyKey="nap-1"))
    first = await ws.answer("a")
    assert first == {"jsonrpc": "2.0", "result": naps + 1, "id": "a"}
    # The same request with another deadline is the same request: replayed, not run again.
    await ws.send(_call("probe.nap", {"seconds": 0}, "a", idempotencyKey="nap-1", timeoutMs=900))
    assert await ws.answer("a") == first
    assert len(probe.NAPS) == naps + 1
    await ws.send(_call("probe.nap", {"seconds": 0}, "b", idempotencyKey="nap-1"))
    reused = (await ws.answer("b"))["error"]["data"]
    assert (reused["code"], reused["reason"]) == ("CONFLICT", "idempotency_key_reused")
    await ws.send(_call("probe.nap", {"seconds": 0}, "c"))  # no key: runs
    assert (await ws.answer("c"))["result"] == naps + 2
    await ws.close()


async def test_a_frames_timeout_ms_is_its_deadline(
    aiohttp_client: Client, make_app: Any, tmp_path: Any
) -> None:
    client = await aiohttp_client(make_app(DATA_DIR=str(tmp_path)))
    ws = await WsRpc.connect(client)
    await ws.send(_call("probe.sleep", {"seconds": 2}, 1, timeoutMs=50))
    error = (await ws.answer(1))["error"]["data"]
    assert (error["code"], error["retryable"]) == ("TIMEOUT", True)
    batch = [
        _call("probe.sleep", {"seconds": 2}, 2, timeoutMs=50),
        _call("probe.sleep", {"seconds": 0}, 3),
    ]
    await ws.send(batch)  # one entry's members apply to the whole batch
    assert (await ws.answer(2))["error"]["data"]["code"] == "TIMEOUT"
    assert (await ws.answer(3))["result"] == 0
    await ws.close()


@pytest.mark.parametrize(
    ("frame", "rid", "path"),
    [
        (_call("system.health", None, 7, timeoutMs="soon"), 7, "$.timeoutMs"),
        (_call("system.health", None, 7, timeoutMs=0), 7, "$.timeoutMs"),
        (_call("system.health", None, 7, idempotencyKey="has space"), 7, "$.idempotencyKey"),
        (_call("system.health", None, 7, idempotencyKey=12), 7, "$.idempotencyKey"),
        (
            [
                _call("system.health", None, 1, idempotencyKey="k1"),
                _call("system.health", None, 2, idempotencyKey="k2"),
            ],
            None,
            "$[1].idempotencyKey",
        ),
    ],
)
async def test_a_malformed_member_is_bad_request_and_the_socket_stays(
    aiohttp_client: Client, make_app: Any, tmp_path: Any, frame: Any, rid: Any, path: str
) -> None:
    client = await aiohttp_client(make_app(DATA_DIR=str(tmp_path)))
    ws = await WsRpc.connect(client)
    await ws.send(frame)
    if rid is None:
        await _until(lambda: asyncio.sleep(0, bool(ws.other)))
        answer = ws.other.pop()
    else:
        answer = await ws.answer(rid)
    assert answer["error"]["code"] == -32000
    assert answer["error"]["data"]["code"] == "BAD_REQUEST"
    assert answer["error"]["data"]["issues"][0]["path"] == path
    assert (await ws.call("system.health"))["result"]["status"] == "ok"
    await ws.close()


# --- rate limits: sockets, subscriptions, and the calls a socket carries ---


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_sockets_and_sse_streams_count_against_the_socket_limit(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await _world(make_api, db_env, RATE_LIMIT_SOCKETS="2/minute")
    first = await WsRpc.connect(api.client, token=api.token("@member"))
    body = json.dumps(_call("intention.watch", {"spaceId": "@hall"}))
    headers = {**_SSE, "Authorization": f"Bearer {api.token('@member')}"}
    stream = await api.client.post("/rpc", data=body, headers=headers)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await WsRpc.connect(api.client, token=api.token("@member"))
    assert refused.value.status == 429
    assert refused.value.headers is not None and int(refused.value.headers["Retry-After"]) >= 1
    again = await api.client.post("/rpc", data=body, headers=headers)
    assert again.status == 429 and again.headers["Content-Type"] == "application/json"
    data = (await again.json())["error"]["data"]
    assert (data["code"], data["reason"], data["retryable"]) == (
        "TOO_MANY_REQUESTS",
        "rate_limited",
        True,
    )
    assert data["retryAfter"] > 0
    anonymous = await WsRpc.connect(api.client)  # another caller: its address, its own count
    assert (await anonymous.call("system.health"))["result"]["status"] == "ok"
    stream.close()
    await first.close()
    await anonymous.close()


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_subscriptions_started_are_rate_limited(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await _world(make_api, db_env, RATE_LIMIT_SUBSCRIPTIONS="2/minute")
    ws = await WsRpc.connect(api.client, token=api.token("@member"))
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    assert (await ws.call("rpc.unsubscribe", {"subscription": sid}))["result"] is True
    await ws.subscribe("space.watch", {"spaceId": "@hall"})
    refused = (await ws.call("intention.watch", {"spaceId": "@hall"}))["error"]
    assert refused["data"]["code"] == "TOO_MANY_REQUESTS"
    assert refused["data"]["reason"] == "rate_limited" and refused["data"]["retryAfter"] > 0
    assert (await _gauges(api.client))[1] == 1  # the refused one never started
    assert (await ws.call("system.health"))["result"]["status"] == "ok"
    # The limit is the being's, on every socket and SSE stream.
    other = await WsRpc.connect(api.client, token=api.token("@member"))
    again = await other.call("space.watch", {"spaceId": "@hall"})
    assert again["error"]["data"]["reason"] == "rate_limited"
    body = json.dumps(_call("intention.watch", {"spaceId": "@hall"}))
    headers = {**_SSE, "Authorization": f"Bearer {api.token('@member')}"}
    sse = await api.client.post("/rpc", data=body, headers=headers)
    assert sse.headers["Content-Type"] == "application/json"  # the ordinary JSON answer
    assert (await sse.json())["error"]["data"]["reason"] == "rate_limited"
    fresh = await WsRpc.connect(api.client, token=api.token("@mod"))
    await fresh.subscribe("intention.watch", {"spaceId": "@hall"})
    for socket in (ws, other, fresh):
        await socket.close()


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_anonymous_socket_calls_are_limited_by_address(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await _world(make_api, db_env, RATE_LIMIT_READS="3/minute")
    ws = await WsRpc.connect(api.client)
    for _ in range(3):
        assert "result" in await ws.call("being.get", {"id": "@hall"})
    limited = (await ws.call("being.get", {"id": "@hall"}))["error"]["data"]
    assert (limited["code"], limited["reason"]) == ("TOO_MANY_REQUESTS", "rate_limited")
    # The same address over plain HTTP has used its reads up too: one caller, one count.
    status, body = await api.call("being.get", {"id": "@hall"})
    assert status == 429 and body["error"]["data"]["code"] == "TOO_MANY_REQUESTS"
    signed_in = await WsRpc.connect(api.client, token=api.token("@member"))
    assert "result" in await signed_in.call("being.get", {"id": "@hall"})  # its being's own count
    await ws.close()
    await signed_in.close()


# --- metrics ---


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_gauges_follow_sockets_streams_and_subscriptions(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await _world(make_api, db_env)
    assert await _gauges(api.client) == (0, 0)
    ws = await WsRpc.connect(api.client, token=api.token("@member"))
    await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    sid = await ws.subscribe("space.watch", {"spaceId": "@hall"})
    assert "result" in await ws.call("being.get", {"id": "@hall"})
    cut = await WsRpc.connect(api.client, token=api.token("@mod"))
    await cut.subscribe("intention.watch", {"spaceId": "@hall"})
    body = json.dumps(_call("intention.watch", {"spaceId": "@hall"}))
    sse = await api.client.post("/rpc", data=body, headers=_SSE)
    assert sse.status == 200
    families = await _families(api.client)
    assert _value(families, "roomrpc_ws_connections") == 3
    assert _value(families, "roomrpc_subscriptions") == 4
    calls = "roomrpc_rpc_calls_total"
    assert _value(families, calls, method="being.get", code="OK") == 1  # over the socket
    assert _value(families, calls, method="intention.watch", code="OK") == 3
    await ws.call("rpc.unsubscribe", {"subscription": sid})
    assert await _gauges(api.client) == (3, 3)
    cut.ws._conn.transport.abort()  # type: ignore[union-attr]  # no close frame: the TCP connection is cut
    sse.close()  # the stream's client goes away
    await ws.close()

    async def all_gone() -> bool:
        return await _gauges(api.client) == (0, 0)

    await _until(all_gone, timeout=10)
    await asyncio.sleep(0.1)
    assert await _gauges(api.client) == (0, 0)  # each counted down once, none twice


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_shutdown_ends_sse_streams_and_the_gauges_drop(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await _world(make_api, db_env)
    live = api.app[LIVE]
    metrics = api.app[METRICS]
    body = json.dumps(_call("intention.watch", {"spaceId": "@hall"}))
    sse = await api.client.post("/rpc", data=body, headers=_SSE)
    ws = await WsRpc.connect(api.client, token=api.token("@member"))
    sid = await ws.subscribe("space.watch", {"spaceId": "@hall"})
    assert metrics.registry.get_sample_value("roomrpc_subscriptions") == 2
    runner = api.client.server.runner
    assert runner is not None
    await runner.shutdown()
    async with asyncio.timeout(5):
        [(event_id, end)] = await read_sse(sse, 1)
        rest = await sse.content.read()
    assert event_id is None and end["params"]["error"]["data"]["code"] == "SERVICE_UNAVAILABLE"
    assert end["params"]["error"]["data"]["reason"] == "shutting_down"
    assert rest == b"\n"  # the end event's blank line, then the stream is closed
    assert (await ws.next(sid))["error"]["data"]["reason"] == "shutting_down"
    async with asyncio.timeout(5):
        await ws._reader
    assert not live.sockets
    assert metrics.registry.get_sample_value("roomrpc_ws_connections") == 0
    assert metrics.registry.get_sample_value("roomrpc_subscriptions") == 0


# --- notifications ---


async def test_a_subscription_sent_as_a_notification_starts_nothing(world: Api) -> None:
    ws = await WsRpc.connect(world.client, token=world.token("@member"))
    await ws.send({"jsonrpc": "2.0", "method": "intention.watch", "params": {"spaceId": "@hall"}})
    assert (await ws.call("system.health"))["result"]["status"] == "ok"  # answered first
    assert ws.other == []  # the notification got no answer
    assert await _gauges(world.client) == (1, 0)
    await world.ok("intention.create", {"spaceId": "@hall", "content": "unheard"}, as_="@mod")
    await asyncio.sleep(0.2)
    assert not ws._events  # and no events
    await ws.close()


# --- the access log and traces ---


async def test_a_socket_is_one_access_line_with_its_calls_tallied(
    make_app: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from server.http.observe import AccessLogger

    app = make_app(DATA_DIR=str(tmp_path), ACCESS_LOG="true")
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as session:
                ws = await WsRpc.connect(session, f"http://127.0.0.1:{port}/rpc")
                for _ in range(2):
                    assert "result" in await ws.call("system.health")
                await ws.send([_call("probe.fail", {"code": "NOT_FOUND"}, 9), _call("nope", id=10)])
                await ws.answer(9)
                await ws.close()
            await _until(lambda: asyncio.sleep(0, _access(caplog) != []))
    finally:
        await runner.cleanup()
    (record,) = _access(caplog)
    line = record.getMessage()
    assert "GET /rpc 101" in line
    assert "probe.fail:NOT_FOUND*1,system.health:OK*2,unknown:METHOD_NOT_FOUND*1" in line
    assert record.rpc_calls == {  # type: ignore[attr-defined]
        "probe.fail:NOT_FOUND": 1,
        "system.health:OK": 2,
        "unknown:METHOD_NOT_FOUND": 1,
    }
    assert record.frames == 3  # type: ignore[attr-defined]


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aiohttp.access" and "/rpc" in r.getMessage()]


async def test_a_sockets_calls_are_spans_under_its_upgrade(
    aiohttp_client: Client, tmp_path: Any
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import schema
    from server.http.app import create_app
    from server.procedures import ROUTERS
    from tests.support.app import make_settings, token_resolver

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(
        make_settings(DATA_DIR=str(tmp_path)),
        contract=(*schema.CONTRACT, *probe.CONTRACT),
        routers=(*ROUTERS, probe.router),
        resolve_principal=token_resolver,
        tracing=provider,
    )
    client = await aiohttp_client(app)
    ws = await WsRpc.connect(client)
    assert "result" in await ws.call("system.health")
    assert "error" in await ws.call("probe.fail", {"code": "CONFLICT"})
    # Each call is a span as soon as it ends, while the socket is still open.
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["system.health", "probe.fail"]
    await ws.close()
    await _until(lambda: asyncio.sleep(0, len(exporter.get_finished_spans()) == 3))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    upgrade = spans["GET /rpc"]
    for name in ("system.health", "probe.fail"):
        parent = spans[name].parent
        assert parent is not None and parent.span_id == upgrade.context.span_id
    assert spans["probe.fail"].attributes is not None
    assert spans["probe.fail"].attributes["rpc.code"] == "CONFLICT"
