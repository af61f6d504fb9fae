"""Middleware shipped with the core."""

from __future__ import annotations

from typing import Any

from server.rpc.context import AuthedContext, Context
from server.rpc.errors import RpcError
from server.rpc.router import Next

__all__ = ["protected"]


async def protected(ctx: Context[Any], params: Any, call_next: Next) -> Any:
    """Reject anonymous callers; hand the rest on with a context whose principal is set."""
    if ctx.principal is None:
        raise RpcError("UNAUTHORIZED", "This procedure needs a bearer token")
    authed = AuthedContext(ctx.request_id, ctx.deps, ctx.principal, ctx.path, ctx.connection)
    return await call_next(authed, params)
