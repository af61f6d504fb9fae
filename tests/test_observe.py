"""Metrics, the access log, JSON logs, traces and the client address, over real HTTP."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

import schema
from server.http.app import create_app
from server.http.forwarded import TrustedProxies, client_address
from server.observe import Metrics
from server.observe.logs import JsonFormatter
from server.procedures import ROUTERS
from tests.support import probe
from tests.support.app import make_settings, token_resolver

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def _call(method: str, params: Any = None, id: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        body["params"] = params
    return body


async def _scrape(client: TestClient[Any, Any]) -> dict[str, Any]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(await response.text())}


def _sample(families: dict[str, Any], name: str, **labels: str) -> float:
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


async def test_metrics_count_calls_by_method_and_code(client: TestClient[Any, Any]) -> None:
    batch = [
        _call("system.health", id=1),
        _call("probe.fail", {"code": "NOT_FOUND"}, id=2),
        _call("no.such.method", id=3),
        _call("probe.sleep", {"seconds": 0.01}, id=4),
    ]
    await client.post("/rpc", json=batch)
    await client.post("/rpc", json=_call("system.health"))
    families = await _scrape(client)
    total = "roomrpc_rpc_calls_total"
    assert _sample(families, total, method="system.health", code="OK") == 2
    assert _sample(families, total, method="probe.fail", code="NOT_FOUND") == 1
    assert _sample(families, total, method="unknown", code="METHOD_NOT_FOUND") == 1
    duration = "roomrpc_rpc_call_duration_seconds"
    assert _sample(families, f"{duration}_count", method="probe.sleep") == 1
    assert _sample(families, f"{duration}_sum", method="probe.sleep") >= 0.01
    assert _sample(families, f"{duration}_bucket", method="probe.sleep", le="0.005") == 0
    assert _sample(families, f"{duration}_bucket", method="probe.sleep", le="+Inf") == 1
    assert _sample(families, "roomrpc_ws_connections") == 0
    assert _sample(families, "roomrpc_subscriptions") == 0
    assert _sample(families, "process_cpu_seconds_total") > 0
    assert "roomrpc_db_call_duration_seconds" in families
    assert "roomrpc_livekit_call_duration_seconds" in families


async def test_database_latency_is_measured(client: TestClient[Any, Any]) -> None:
    await client.get("/readyz")  # a SELECT 1 through Storage.read()
    families = await _scrape(client)
    assert _sample(families, "roomrpc_db_call_duration_seconds_count", mode="read") >= 1


async def test_metrics_can_be_turned_off(aiohttp_client: Client, make_app: Any) -> None:
    client = await aiohttp_client(make_app(METRICS="false"))
    assert (await client.get("/metrics")).status == 404


def test_gauges_are_for_other_transports_to_move() -> None:
    metrics = Metrics(process=False)
    metrics.ws_connections.inc()
    metrics.subscriptions.inc(3)
    metrics.subscriptions.dec()
    assert metrics.registry.get_sample_value("roomrpc_ws_connections") == 1
    assert metrics.registry.get_sample_value("roomrpc_subscriptions") == 2


async def test_access_log_names_calls_codes_request_id_and_client(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from server.http.observe import AccessLogger

    app = make_app(ACCESS_LOG="true", FORWARDED_ALLOW_IPS="127.0.0.1")
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    batch = [_call("system.health", id=1), _call("probe.fail", {"code": "FORBIDDEN"}, id=2)]
    headers = {"X-Request-Id": "req-42", "X-Forwarded-For": "203.0.113.9, 10.1.1.1"}
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}/rpc"
                async with session.post(url, json=batch, headers=headers) as response:
                    await response.read()
    finally:
        await runner.cleanup()
    (record,) = [r for r in caplog.records if r.name == "aiohttp.access"]
    line = record.getMessage()
    assert "POST /rpc 200" in line
    assert "req-42" in line and "system.health:OK,probe.fail:FORBIDDEN" in line
    assert line.startswith("10.1.1.1 ")  # 10.1.1.1 is not a trusted proxy: it is the client
    entry = json.loads(JsonFormatter().format(record))
    assert entry["rpc_methods"] == ["system.health", "probe.fail"]
    assert entry["rpc_codes"] == ["OK", "FORBIDDEN"]
    assert entry["request_id"] == "req-42" and entry["status"] == 200
    assert entry["client"] == "10.1.1.1" and entry["duration_ms"] >= 0


def test_json_logs_are_one_object_a_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.LogRecord("roomrpc", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed x" and entry["level"] == "ERROR"
    assert "ValueError" in entry["exception"]


@pytest.mark.parametrize(
    ("trusted", "peer", "hops", "client"),
    [
        ((), "10.0.0.1", ["203.0.113.9"], "10.0.0.1"),  # no proxy trusted: the peer
        (("10.0.0.0/8",), "10.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        (("10.0.0.0/8",), "192.0.2.7", ["203.0.113.9"], "192.0.2.7"),  # untrusted peer
        # a client's own X-Forwarded-For entry is left of the real one: never believed
        (("10.0.0.0/8",), "10.0.0.1", ["1.2.3.4", "203.0.113.9", "10.0.0.2"], "203.0.113.9"),
        (("*",), "10.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_trusted_proxies(trusted: tuple[str, ...], peer: str, hops: list[str], client: str) -> None:
    assert TrustedProxies(trusted).client(peer, hops) == client


async def test_forwarded_header_from_a_trusted_proxy(aiohttp_client: Client, make_app: Any) -> None:
    app = make_app(FORWARDED_ALLOW_IPS="127.0.0.1,::1")

    async def whoami(request: web.Request) -> web.Response:
        return web.Response(text=client_address(request))

    app.router.add_get("/whoami", whoami)
    client = await aiohttp_client(app)
    response = await client.get("/whoami", headers={"Forwarded": 'for="[2001:db8::7]:4711"'})
    assert await response.text() == "2001:db8::7"
    response = await client.get("/whoami", headers={"X-Forwarded-For": "198.51.100.3"})
    assert await response.text() == "198.51.100.3"


async def test_a_span_per_request_and_per_call(aiohttp_client: Client) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(
        make_settings(),
        contract=(*schema.CONTRACT, *probe.CONTRACT),
        routers=(*ROUTERS, probe.router),
        resolve_principal=token_resolver,
        tracing=provider,
    )
    client = await aiohttp_client(app)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = f"00-{trace_id}-00f067aa0ba902b7-01"
    batch = [_call("system.health", id=1), _call("probe.fail", {"code": "CONFLICT"}, id=2)]
    response = await client.post("/rpc", json=batch, headers={"traceparent": parent})
    assert response.status == 200
    assert response.headers["traceparent"].startswith(f"00-{trace_id}-")
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"POST /rpc", "system.health", "probe.fail"}
    http = spans["POST /rpc"]
    assert f"{http.context.trace_id:032x}" == trace_id
    assert http.parent is not None and f"{http.parent.span_id:016x}" == "00f067aa0ba902b7"
    for name in ("system.health", "probe.fail"):
        call = spans[name]
        assert call.parent is not None and call.parent.span_id == http.context.span_id
        times = (http.start_time, call.start_time, call.end_time, http.end_time)
        assert None not in times and list(times) == sorted(times)  # type: ignore[type-var]
    assert (spans["probe.fail"].attributes or {})["rpc.code"] == "CONFLICT"


async def test_livekit_and_database_latencies_on_the_real_app(
    aiohttp_client: Client, livekit_server: Any, tmp_path: Any
) -> None:
    from tests.support.app import livekit_env

    settings = make_settings(DATA_DIR=str(tmp_path), **livekit_env(livekit_server))
    client = await aiohttp_client(create_app(settings, resolve_principal=token_resolver))
    response = await client.post(
        "/rpc", json=_call("media.listRooms"), headers={"Authorization": "Bearer admin:@ops"}
    )
    assert (await response.json())["result"] == []
    families = await _scrape(client)
    name = "roomrpc_livekit_call_duration_seconds_count"
    assert _sample(families, name, method="ListRooms") == 1
    assert _sample(families, "roomrpc_rpc_calls_total", method="media.listRooms", code="OK") == 1


async def test_traces_reach_an_otlp_endpoint(
    aiohttp_server: Callable[[web.Application], Awaitable[Any]], tmp_path: Any
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT set, the otel extra installed: spans are POSTed over
    OTLP/HTTP (protobuf) to a collector, here a plain aiohttp receiver."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    received: list[bytes] = []

    async def collect(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(body=b"", content_type="application/x-protobuf")

    collector = web.Application()
    collector.router.add_post("/v1/traces", collect)
    server = await aiohttp_server(collector)
    settings = make_settings(
        DATA_DIR=str(tmp_path), OTEL_EXPORTER_OTLP_ENDPOINT=str(server.make_url(""))
    )
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/rpc"
            async with session.post(url, json=_call("system.health")) as response:
                assert response.headers["traceparent"].startswith("00-")
    finally:
        await runner.cleanup()  # shuts the provider down: the batch is exported
    spans = []
    for body in received:
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                spans += [span.name for span in scope.spans]
    assert sorted(spans) == ["POST /rpc", "system.health"]
