"""``GET /metrics``, the access log, and OpenTelemetry spans for HTTP requests and calls."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.http.forwarded import client_address
from server.observe import Metrics
from server.rpc.dispatch import CallRecord
from server.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "CALLS",
    "CALL_SPANS",
    "METRICS",
    "REQUEST_ID",
    "SOCKET_CALLS",
    "AccessLogger",
    "CallTally",
    "metrics_handler",
    "tracer_provider",
    "tracing_middleware",
]

METRICS = web.AppKey("metrics", Metrics)
CALLS = web.RequestKey("rpc_calls", list[CallRecord])  # set by /rpc when someone reads it
REQUEST_ID = web.RequestKey("request_id", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("roomrpc")


class CallTally:
    """The calls one socket carried, counted by ``method:code``: its access log line says them.

    Bounded: methods are the procedures' names (others are ``unknown``), codes the error table.
    """

    __slots__ = ("counts", "frames")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.frames = 0

    def add(self, calls: list[CallRecord]) -> None:
        """Count the calls of one frame."""
        self.frames += 1
        counts = self.counts
        for method, code, _start, _end in calls:
            counts[method, code] = counts.get((method, code), 0) + 1

    def summary(self) -> str:
        """``method:code*n`` for each, by method (``-`` when none)."""
        parts = [f"{m}:{c}*{n}" for (m, c), n in sorted(self.counts.items())]
        return ",".join(parts) or "-"


# A socket's calls: tallied for its one access log line (ACCESS_LOG=true), and handed to
# the tracer frame by frame, so each becomes a span when it ends, not when the socket does.
SOCKET_CALLS = web.RequestKey("socket_calls", CallTally)
CALL_SPANS: web.RequestKey[Callable[[list[CallRecord]], None]] = web.RequestKey("call_spans")


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus's text format, from this process's registry."""
    body = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


class AccessLogger(AbstractAccessLogger):
    """One line a request: client, method, path, status, duration, request id, and for
    ``/rpc`` each call as ``method:code``; the same fields go to JSON logs as keys."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        calls = request.get(CALLS) or []
        tally = request.get(SOCKET_CALLS)  # a WebSocket: one line when it closes
        request_id = request.get(REQUEST_ID, "-")
        client = client_address(request) if isinstance(request, web.Request) else request.remote
        if tally is None:
            summary = ",".join(f"{method}:{code}" for method, code, _, _ in calls) or "-"
        else:
            summary = tally.summary()
        extra: dict[str, Any] = {
            "client": client,
            "http_method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(time * 1000, 3),
            "request_id": request_id,
        }
        if tally is None:
            extra["rpc_methods"] = [method for method, _, _, _ in calls]
            extra["rpc_codes"] = [code for _, code, _, _ in calls]
        else:
            extra["rpc_calls"] = {f"{m}:{c}": n for (m, c), n in sorted(tally.counts.items())}
            extra["frames"] = tally.frames
        self.logger.info(
            "%s %s %s %d %.2fms %s %s",
            client,
            request.method,
            request.path,
            response.status,
            time * 1000,
            request_id,
            summary,
            extra=extra,
        )


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """An OTLP-exporting provider when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and the
    ``otel`` extra is installed; None (no tracing) otherwise."""
    if settings.otel_exporter_otlp_endpoint is None:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "no traces (pip install 'roomrpc[otel]')"
        )
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": "roomrpc"}))
    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracing_middleware(provider: TracerProvider) -> Any:
    """A span per HTTP request (its parent from ``traceparent``), a child per RPC call."""
    from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    tracer = provider.get_tracer("roomrpc")
    propagator = TraceContextTextMapPropagator()

    @web.middleware
    async def trace(request: web.Request, handler: Handler) -> web.StreamResponse:
        parent = propagator.extract(dict(request.headers))
        route = request.match_info.route.resource
        template = route.canonical if route is not None else request.path
        wall, clock = time.time_ns(), time.perf_counter()
        request[CALLS] = []
        with tracer.start_as_current_span(
            f"{request.method} {template}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": request.method,
                "url.path": request.path,
                "client.address": client_address(request),
            },
        ) as span:
            context = set_span_in_context(span)

            def spans(calls: list[CallRecord]) -> None:
                for method, code, start, end in calls:
                    call = tracer.start_span(
                        method,
                        context=context,
                        kind=SpanKind.INTERNAL,
                        start_time=wall + int((start - clock) * 1e9),
                        attributes={
                            "rpc.system": "jsonrpc",
                            "rpc.method": method,
                            "rpc.code": code,
                        },
                    )
                    if code != "OK":
                        call.set_status(Status(StatusCode.ERROR, code))
                    call.end(end_time=wall + int((end - clock) * 1e9))

            request[CALL_SPANS] = spans  # a socket's calls, frame by frame
            response = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
            spans(request[CALLS])
            carrier: dict[str, str] = {}
            propagator.inject(carrier, context=context)
            if "traceparent" in carrier and not response.prepared:
                response.headers["traceparent"] = carrier["traceparent"]
        return response

    return trace
