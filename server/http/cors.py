"""CORS for browser frontends on other origins: only the origins configured, none by default.

A browser call refused for its origin fails in the browser with no word on the
server; so each refused origin is logged (at most once a minute per origin),
naming ``CORS_ORIGINS``, and a refused preflight is answered 403 with the same hint
rather than a bare 405.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

__all__ = ["RefusedOrigins", "with_cors"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ALLOW_HEADERS = (
    "Authorization, Content-Type, X-Request-Id, Idempotency-Key, X-Timeout-Ms, X-Contract-Hash, "
    "traceparent"
)
_EXPOSE_HEADERS = (
    "X-Request-Id, Idempotent-Replayed, Retry-After, "
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, traceparent"
)
_WARN_EVERY = 60.0
_REMEMBERED = 256
log = logging.getLogger("roomrpc.cors")


class RefusedOrigins:
    """Logs a refused origin, once a minute at most for each."""

    def __init__(self, interval: float = _WARN_EVERY) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}

    def refuse(self, origin: str, what: str) -> None:
        now = time.monotonic()
        last = self._last.get(origin)
        if last is not None and now - last < self._interval:
            return
        if len(self._last) >= _REMEMBERED:
            self._last.clear()
        self._last[origin] = now
        log.warning(
            "CORS: refused %s from origin %s: add it to CORS_ORIGINS (comma-separated) "
            "to let that page call /rpc",
            what,
            origin,
        )


def with_cors(handler: Handler, origins: Iterable[str]) -> tuple[Handler, Handler]:
    """``handler`` with CORS headers added, and the matching preflight handler.

    With no origins configured, the handler only logs browsers' cross-origin calls
    (same-origin pages, such as the explorer, are never refused).
    """
    allowed = frozenset(origins)
    any_origin = "*" in allowed
    refused = RefusedOrigins()

    def allow(request: web.Request, origin: str) -> str | None:
        if any_origin:
            return "*"
        return origin if origin in allowed else None

    def foreign(request: web.Request, origin: str) -> bool:
        return origin != f"{request.scheme}://{request.host}"

    async def actual(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        origin = request.headers.get("Origin")
        if origin is None:
            return response
        response.headers["Vary"] = "Origin"  # the answer depends on it, allowed or not
        granted = allow(request, origin)
        if granted is not None:
            response.headers["Access-Control-Allow-Origin"] = granted
            response.headers["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
        elif foreign(request, origin):
            refused.refuse(origin, "a call")
        return response

    async def preflight(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        granted = None if origin is None else allow(request, origin)
        if granted is None:
            if origin is not None and foreign(request, origin):
                refused.refuse(origin, "a preflight")
            return web.Response(
                status=403,
                text=f"origin {origin} is not allowed: the server's CORS_ORIGINS must list it\n",
                headers={"Vary": "Origin"},
            )
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": granted,
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": _ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )

    return actual, preflight
