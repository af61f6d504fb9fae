"""The aiohttp application: routes, typed app state, start-up checks."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

import schema
from schema import Procedure, jsonrpc_examples
from schema.openrpc import build_openrpc, contract_hash
from server import __version__
from server.auth import BearerResolver, Tokens
from server.bus import follow_invalidations, open_bus, publish_invalidation
from server.domain.access import now
from server.http.contracts import ClientContracts
from server.http.cors import with_cors
from server.http.explorer import add_explorer, secure
from server.http.forwarded import TRUSTED_PROXIES, TrustedProxies
from server.http.health import READY_CHECKS, healthz, readyz
from server.http.livekit_token import PATH as TOKEN_PATH
from server.http.livekit_token import token_handler
from server.http.noise import NOISE, Noise, ServerLog, quiet_accept_errors
from server.http.observe import METRICS, metrics_handler, tracer_provider, tracing_middleware
from server.http.rpc import rpc_handler, upgrade_handler
from server.http.socket import LIVE, Live
from server.livekit import LiveKitConfig
from server.observe import Metrics
from server.procedures import ROUTERS
from server.procedures.deps import Deps
from server.procedures.jsonrpc_examples import router as examples_router
from server.ratelimit import RateLimits
from server.rpc import (
    Caller,
    Compiled,
    Dispatcher,
    Resolver,
    Router,
    compile_procedures,
    discover_router,
    live_router,
    protected,
)
from server.settings import Settings
from server.storage import Storage, space_events
from server.storage.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from server.livekit import LiveKit

__all__ = [
    "CALLER",
    "CLIENT_CONTRACTS",
    "DEPS",
    "IDEMPOTENCY",
    "PROCEDURES",
    "RATE_LIMITS",
    "create_app",
    "presence_ctx",
    "prune_history",
    "storage_ctx",
]

log = logging.getLogger("roomrpc.http")
DEPS = web.AppKey("deps", Deps)
PROCEDURES = web.AppKey("procedures", dict[str, Compiled])
CALLER = web.AppKey("caller", Caller[Deps])
# Rate limits: transports other than /rpc (WebSockets, subscriptions) count with
# ``app[RATE_LIMITS].admit("socket" | "subscription", who)``; absent when RATE_LIMITS=false.
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
IDEMPOTENCY = web.AppKey("idempotency", IdempotencyStore)
CLIENT_CONTRACTS = web.AppKey("client_contracts", ClientContracts)  # stale clients, by hash
_PURGE_EVERY = 300.0  # seconds between deletions of expired idempotent answers


def create_app(
    settings: Settings,
    *,
    contract: Iterable[Procedure[Any, Any]] = schema.CONTRACT,
    routers: Sequence[Router] = ROUTERS,
    resolve_principal: Resolver | None = None,
    tracing: TracerProvider | None = None,
) -> web.Application:
    """Build the app; a router that does not match the contract fails here, not later.

    ``tracing`` defaults to the OTLP exporter ``OTEL_EXPORTER_OTLP_ENDPOINT`` names.
    """
    contract = tuple(contract)
    if settings.rpc_spec_examples:  # the spec's examples, replayable word for word (off by default)
        contract += jsonrpc_examples.CONTRACT
        routers = (*routers, examples_router)
    livekit = _livekit(settings)  # None: media is off
    deps = Deps(settings=settings, livekit=livekit)
    metrics = Metrics()
    if livekit is not None and settings.metrics:
        livekit.rooms.metrics = metrics
    if resolve_principal is None:  # the real one: bearer JWTs of beings in storage
        resolve_principal = BearerResolver(
            Tokens.from_settings(settings),
            lambda: deps.storage,
            cache_seconds=settings.auth_cache_seconds,
        )
    limits = RateLimits(settings) if settings.rate_limits else None
    idempotency = IdempotencyStore(lambda: deps.storage, settings)
    # built once: rpc.discover keeps its bytes, clients' X-Contract-Hash is checked by its hash
    document = build_openrpc(contract, title="roomrpc", version=__version__)
    contracts = ClientContracts(contract_hash(document))
    compiled: dict[str, Compiled] = {}  # rpc.authenticate answers auth.me: looked up when called
    builtins = [
        discover_router(document),
        live_router(resolve_principal, compiled),
    ]
    procedures = compile_procedures(contract, routers, builtins=builtins, protect=protected)
    compiled.update(procedures)
    dispatcher = Dispatcher(
        procedures,
        deps=deps,
        resolve_principal=resolve_principal,
        call_timeout=settings.rpc_call_timeout,
        max_batch=settings.rpc_max_batch,
        limiter=limits,
        idempotency=idempotency,
        observe=metrics.observe_call if settings.metrics else None,
        max_response_bytes=settings.rpc_max_response_bytes,
        request_timeout=settings.rpc_request_timeout,
    )
    own_tracing = tracing is None
    tracing = tracing or tracer_provider(settings)
    middlewares = [] if tracing is None else [tracing_middleware(tracing)]
    noise = Noise(logging.getLogger("roomrpc.http"))
    app = web.Application(
        client_max_size=settings.rpc_max_body_bytes,
        middlewares=middlewares,
        handler_args={"logger": ServerLog(logging.getLogger("aiohttp.server"), noise)},
    )
    app.on_response_prepare.append(_explorer_headers if settings.explorer else _server_header)
    app[NOISE] = noise
    if tracing is not None and own_tracing:
        app.on_cleanup.append(_shutdown(tracing))  # the last spans are sent, not lost
    app[DEPS] = deps
    app[METRICS] = metrics
    app[TRUSTED_PROXIES] = TrustedProxies(settings.forwarded_allow_ips)
    app[PROCEDURES] = procedures
    app[CALLER] = Caller(procedures, deps)
    app[READY_CHECKS] = {}
    if limits is not None:
        app[RATE_LIMITS] = limits
        app.on_cleanup.append(lambda _app: _close(limits))
    app[IDEMPOTENCY] = idempotency
    app[CLIENT_CONTRACTS] = contracts
    if limits is not None and not limits.synchronous:
        app[READY_CHECKS]["rate_limits"] = limits.ping
    live = app[LIVE] = Live(settings, limits=limits)
    # Counted when /metrics is scraped, from what is open: nothing to keep in step.
    metrics.ws_connections.set_function(live.websockets)
    metrics.subscriptions.set_function(live.subscriptions)
    handler = rpc_handler(
        dispatcher,  # type: ignore[arg-type]
        settings,
        contracts,
        resolve=resolve_principal,
        live=live,
        record=settings.access_log or tracing is not None,
        noise=noise,
    )
    handler, preflight = with_cors(handler, settings.cors_origins)
    app.router.add_route("OPTIONS", "/rpc", preflight)
    app.router.add_post("/rpc", handler)
    if settings.metrics:
        app.router.add_get("/metrics", metrics_handler)
    # LiveKit's standard token endpoint, for browsers as /rpc is (CORS alike).
    token = token_handler(deps, resolve_principal, call_timeout=settings.rpc_call_timeout)
    token, token_preflight = with_cors(token, settings.cors_origins)
    app.router.add_route("OPTIONS", TOKEN_PATH, token_preflight)
    app.router.add_post(TOKEN_PATH, token)
    app.router.add_get("/rpc", upgrade_handler(dispatcher, resolve_principal, live))  # type: ignore[arg-type]
    app.on_shutdown.append(live.shutdown)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.cleanup_ctx.append(quiet_accept_errors)
    app.cleanup_ctx.append(storage_ctx)
    app.cleanup_ctx.append(presence_ctx)  # after storage: stops before it closes
    app.cleanup_ctx.append(_purge_ctx)
    # LiveKit: one shared session for the app's life, and a readiness check.
    if livekit is not None:
        app.cleanup_ctx.append(livekit.lifespan)
        app[READY_CHECKS]["livekit"] = livekit.ping
        from server.http.reconcile import reconcile_ctx  # livekit-api: with media on only
        from server.http.webhook import add_webhook

        add_webhook(app, deps, livekit)  # POST /livekit/webhook: presence from LiveKit's events
        every = settings.livekit_reconcile_seconds  # and, for what webhooks lost, ListParticipants
        app.cleanup_ctx.append(reconcile_ctx(deps, livekit, every))
    if settings.explorer:  # the API explorer at GET /
        add_explorer(app)
    return app


def _livekit(settings: Settings) -> LiveKit | None:
    """The LiveKit handle, or None when media is off: livekit-api and its protobuf
    modules (~6 MiB resident) are imported only when it is on."""
    config = LiveKitConfig.from_settings(settings)
    if config is None:
        return None
    from server.livekit import LiveKit

    return LiveKit(config)


async def _server_header(request: web.Request, response: web.StreamResponse) -> None:
    """``Server`` names the product, not the versions of Python and aiohttp behind it."""
    response.headers["Server"] = "roomrpc"


async def _explorer_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The same, and the explorer's security headers on its files: one hook, not two."""
    response.headers["Server"] = "roomrpc"
    secure(request, response)


def _shutdown(provider: TracerProvider) -> Callable[[web.Application], Awaitable[None]]:
    async def shutdown(app: web.Application) -> None:
        await asyncio.to_thread(provider.shutdown)  # flushes the batch: a blocking export

    return shutdown


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database (migrating it) at start-up, close it at shutdown."""
    deps = app[DEPS]
    storage = await Storage.open(deps.settings)
    if deps.settings.metrics:
        storage.metrics = app[METRICS]
    deps.opened_storage = storage
    app[READY_CHECKS].setdefault("database", storage.ping)  # one set before start-up wins
    try:
        bus = deps.opened_bus = await open_bus(deps.settings)
        bus.prepare = functools.partial(deps.shared.prepare, storage)
    except BaseException:
        deps.opened_storage = None
        await storage.close()
        raise
    follow = asyncio.create_task(follow_invalidations(bus, storage.cache), name="roomrpc-cache")
    storage.publish = functools.partial(publish_invalidation, bus)
    try:
        yield
    finally:
        storage.publish = None
        follow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follow
        deps.opened_bus = None
        await bus.close()
        deps.opened_storage = None
        await storage.close()


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    """Renew this instance's presence sessions and sweep expired ones while the app runs."""
    deps = app[DEPS]
    async with deps.presence.running(deps.storage, deps.bus):
        yield


async def _close(limits: RateLimits) -> None:
    limits.close()


async def prune_history(app: web.Application) -> int:
    """Delete space events older than ``LIVE_HISTORY_SECONDS`` (each space keeps its newest);
    how many went. A subscriber resuming from one gets PRECONDITION_FAILED ``history_gone``."""
    deps = app[DEPS]
    before = now() - timedelta(seconds=deps.settings.live_history_seconds)
    async with deps.storage.write() as conn:
        return await space_events.prune(conn, before)


async def _purge_ctx(app: web.Application) -> AsyncIterator[None]:
    """Delete expired idempotent answers, old space events and rate counters every few minutes."""

    async def purge() -> None:
        while True:
            await asyncio.sleep(_PURGE_EVERY)
            limits = app.get(RATE_LIMITS)
            if limits is not None:
                limits.expire()
            try:
                await app[IDEMPOTENCY].purge()
            except Exception:  # the database is down: next time
                log.warning("could not delete expired idempotency keys", exc_info=True)
            try:
                await prune_history(app)
            except Exception:
                log.warning("could not delete old space events", exc_info=True)

    task = asyncio.create_task(purge())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
