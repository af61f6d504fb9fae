"""CORS for browser frontends on other origins: only the origins configured, none by default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

__all__ = ["with_cors"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ALLOW_HEADERS = (
    "Authorization, Content-Type, X-Request-Id, Idempotency-Key, X-Timeout-Ms, X-Contract-Hash"
)
_EXPOSE_HEADERS = (
    "X-Request-Id, Idempotent-Replayed, Retry-After, "
    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy"
)


def with_cors(handler: Handler, origins: Iterable[str]) -> tuple[Handler, Handler]:
    """``handler`` with CORS headers added, and the matching preflight handler."""
    allowed = frozenset(origins)
    any_origin = "*" in allowed

    def allow(request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        return "*" if any_origin else (origin if origin in allowed else None)

    async def actual(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        response.headers["Vary"] = "Origin"  # the answer depends on it, allowed or not
        origin = allow(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
        return response

    async def preflight(request: web.Request) -> web.StreamResponse:
        origin = allow(request)
        if origin is None:
            return web.Response(status=403, text="origin not allowed", headers={"Vary": "Origin"})
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": _ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )

    return actual, preflight
