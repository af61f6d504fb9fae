"""The RPC core: routers, context, middleware, errors, dispatch. Knows nothing of HTTP."""

from server.rpc.caller import Caller
from server.rpc.context import AuthedContext, Context, Principal
from server.rpc.discover import discover_router
from server.rpc.dispatch import Dispatcher, Reply, Resolver, error_reply
from server.rpc.errors import RpcError, error_object
from server.rpc.middleware import protected
from server.rpc.policies import Idempotency, Limited, RateLimiter, Stored
from server.rpc.router import Compiled, Middleware, Next, Router, RouterError, compile_procedures

__all__ = [
    "AuthedContext",
    "Caller",
    "Compiled",
    "Context",
    "Dispatcher",
    "Idempotency",
    "Limited",
    "Middleware",
    "Next",
    "Principal",
    "RateLimiter",
    "Reply",
    "Resolver",
    "Router",
    "RouterError",
    "RpcError",
    "Stored",
    "compile_procedures",
    "discover_router",
    "error_object",
    "error_reply",
    "protected",
]
