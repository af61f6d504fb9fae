"""The RPC core: routers, context, middleware, errors, dispatch. Knows nothing of HTTP."""

from schema import Event, Feed
from server.rpc.caller import Caller
from server.rpc.connection import CloseCallback, Connection
from server.rpc.context import AuthedContext, Context, Principal
from server.rpc.discover import discover_router
from server.rpc.dispatch import Dispatcher, Reply, Resolver, error_reply
from server.rpc.errors import RpcError, error_object
from server.rpc.middleware import protected
from server.rpc.policies import Idempotency, Limited, RateLimiter, Stored
from server.rpc.router import Compiled, Middleware, Next, Router, RouterError, compile_procedures
from server.rpc.subscriptions import Gone, Send, end_frame, event_frame, live_router, pump

__all__ = [
    "AuthedContext",
    "Caller",
    "CloseCallback",
    "Compiled",
    "Connection",
    "Context",
    "Dispatcher",
    "Event",
    "Feed",
    "Gone",
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
    "Send",
    "Stored",
    "compile_procedures",
    "discover_router",
    "end_frame",
    "error_object",
    "error_reply",
    "event_frame",
    "live_router",
    "protected",
    "pump",
]
