"""The aiohttp application: routes, typed app state, start-up checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web

import schema
from schema import Procedure
from server import __version__
from server.cors import with_cors
from server.deps import Deps
from server.explorer import add_explorer
from server.health import READY_CHECKS, healthz, readyz
from server.http_rpc import rpc_handler
from server.livekit import LiveKit
from server.procedures import ROUTERS
from server.rpc import (
    Caller,
    Compiled,
    Dispatcher,
    Principal,
    Resolver,
    Router,
    compile_procedures,
    discover_router,
    protected,
)
from server.settings import Settings

__all__ = ["CALLER", "DEPS", "PROCEDURES", "anonymous", "create_app"]

DEPS = web.AppKey("deps", Deps)
PROCEDURES = web.AppKey("procedures", dict[str, Compiled])
CALLER = web.AppKey("caller", Caller[Deps])


async def anonymous(authorization: str) -> Principal | None:
    """The placeholder resolver: credentials are not checked, every caller is anonymous."""
    return None


def create_app(
    settings: Settings,
    *,
    contract: Iterable[Procedure[Any, Any]] = schema.CONTRACT,
    routers: Sequence[Router] = ROUTERS,
    resolve_principal: Resolver = anonymous,
) -> web.Application:
    """Build the app; a router that does not match the contract fails here, not later."""
    contract = tuple(contract)
    builtins = [discover_router(contract, title="roomrpc", version=__version__)]
    procedures = compile_procedures(contract, routers, builtins=builtins, protect=protected)
    livekit = LiveKit.from_settings(settings)  # None: media is off
    deps = Deps(settings=settings, livekit=livekit)
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
    handler = rpc_handler(dispatcher, settings)  # type: ignore[arg-type]
    if settings.cors_origins:
        handler, preflight = with_cors(handler, settings.cors_origins)
        app.router.add_route("OPTIONS", "/rpc", preflight)
    app.router.add_post("/rpc", handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # LiveKit (issue 4): one shared session for the app's life, and a readiness check.
    if livekit is not None:
        app.cleanup_ctx.append(livekit.lifespan)
        app[READY_CHECKS]["livekit"] = livekit.ping
    # --- issue 5: the API explorer at GET / ---
    add_explorer(app)
    return app
