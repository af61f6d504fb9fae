"""The aiohttp application: routes, typed app state, start-up checks."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from aiohttp import web

import schema
from schema import Procedure, jsonrpc_examples
from server import __version__
from server.auth import BearerResolver, Tokens
from server.bus import open_bus
from server.http.cors import with_cors
from server.http.explorer import add_explorer
from server.http.health import READY_CHECKS, healthz, readyz
from server.http.livekit_token import PATH as TOKEN_PATH
from server.http.livekit_token import token_handler
from server.http.reconcile import reconcile_ctx
from server.http.rpc import rpc_handler, upgrade_handler
from server.http.socket import LIVE, Live
from server.http.webhook import add_webhook
from server.livekit import LiveKit
from server.procedures import ROUTERS
from server.procedures._presence import PresenceKeeper
from server.procedures.deps import Deps
from server.procedures.jsonrpc_examples import router as examples_router
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
from server.storage import Storage

__all__ = ["CALLER", "DEPS", "PROCEDURES", "create_app", "presence_ctx", "storage_ctx"]

DEPS = web.AppKey("deps", Deps)
PROCEDURES = web.AppKey("procedures", dict[str, Compiled])
CALLER = web.AppKey("caller", Caller[Deps])


def create_app(
    settings: Settings,
    *,
    contract: Iterable[Procedure[Any, Any]] = schema.CONTRACT,
    routers: Sequence[Router] = ROUTERS,
    resolve_principal: Resolver | None = None,
) -> web.Application:
    """Build the app; a router that does not match the contract fails here, not later."""
    contract = tuple(contract)
    if settings.rpc_spec_examples:  # the spec's examples, replayable word for word (off by default)
        contract += jsonrpc_examples.CONTRACT
        routers = (*routers, examples_router)
    livekit = LiveKit.from_settings(settings)  # None: media is off
    deps = Deps(settings=settings, presence=PresenceKeeper(settings), livekit=livekit)
    if resolve_principal is None:  # the real one: bearer JWTs of beings in storage
        resolve_principal = BearerResolver(
            Tokens.from_settings(settings),
            lambda: deps.storage,
            cache_seconds=settings.auth_cache_seconds,
        )
    compiled: dict[str, Compiled] = {}  # rpc.authenticate answers auth.me: looked up when called
    builtins = [
        discover_router(contract, title="roomrpc", version=__version__),
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
    )
    app = web.Application(client_max_size=settings.rpc_max_body_bytes)
    app[DEPS] = deps
    app[PROCEDURES] = procedures
    app[CALLER] = Caller(procedures, deps)
    app[READY_CHECKS] = {}
    live = app[LIVE] = Live(settings)
    handler = rpc_handler(dispatcher, settings, resolve=resolve_principal, live=live)  # type: ignore[arg-type]
    token = token_handler(deps, resolve_principal, call_timeout=settings.rpc_call_timeout)
    for path, serve in (("/rpc", handler), (TOKEN_PATH, token)):
        if settings.cors_origins:  # the token endpoint is called from browsers as /rpc is
            serve, preflight = with_cors(serve, settings.cors_origins)
            app.router.add_route("OPTIONS", path, preflight)
        app.router.add_post(path, serve)
    app.router.add_get("/rpc", upgrade_handler(dispatcher, resolve_principal, live))  # type: ignore[arg-type]
    app.on_shutdown.append(live.shutdown)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.cleanup_ctx.append(storage_ctx)
    app.cleanup_ctx.append(presence_ctx)  # after storage: stops before it closes
    # LiveKit: one shared session for the app's life, and a readiness check.
    if livekit is not None:
        app.cleanup_ctx.append(livekit.lifespan)
        app[READY_CHECKS]["livekit"] = livekit.ping
        add_webhook(app, deps, livekit)  # POST /livekit/webhook: presence from LiveKit's events
        every = settings.livekit_reconcile_seconds  # and, for what webhooks lost, ListParticipants
        app.cleanup_ctx.append(reconcile_ctx(deps, livekit, every))
    if settings.explorer:  # the API explorer at GET /
        add_explorer(app)
    return app


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database (migrating it) at start-up, close it at shutdown."""
    deps = app[DEPS]
    storage = await Storage.open(deps.settings)
    deps.opened_storage = storage
    app[READY_CHECKS].setdefault("database", storage.ping)  # one set before start-up wins
    try:
        bus = deps.opened_bus = await open_bus(deps.settings)
        bus.prepare = functools.partial(deps.shared.prepare, storage)
    except BaseException:
        deps.opened_storage = None
        await storage.close()
        raise
    try:
        yield
    finally:
        deps.opened_bus = None
        await bus.close()
        deps.opened_storage = None
        await storage.close()


async def presence_ctx(app: web.Application) -> AsyncIterator[None]:
    """Renew this instance's presence sessions and sweep expired ones while the app runs."""
    deps = app[DEPS]
    async with deps.presence.running(deps.storage, deps.bus):
        yield
