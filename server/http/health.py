"""``GET /healthz`` (the process answers) and ``GET /readyz`` (its dependencies answer)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from server.rpc import RpcError

__all__ = ["READY_CHECKS", "ReadyCheck", "healthz", "readyz"]

ReadyCheck = Callable[[], Awaitable[None]]
READY_CHECKS = web.AppKey("ready_checks", dict[str, ReadyCheck])
_CHECK_TIMEOUT = 2.0
log = logging.getLogger("roomrpc.health")


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: every registered dependency check passes within its time limit."""
    checks = request.app[READY_CHECKS]
    results = await asyncio.gather(*(_run(name, c) for name, c in checks.items()))
    report = dict(zip(checks, results, strict=True))
    ready = all(result == "ok" for result in report.values())
    body = {"status": "ready" if ready else "unavailable", "checks": report}
    return web.json_response(body, status=200 if ready else 503)


async def _run(name: str, check: ReadyCheck) -> str:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            await check()
    except TimeoutError:
        log.warning("readiness check %s timed out", name)
        return "timeout"
    except RpcError as exc:  # ours: the adapter already logged the cause in one line
        log.warning("readiness check %s failed: %s", name, exc.reason or exc.code)
        return "unavailable"
    except Exception:
        log.warning("readiness check %s failed", name, exc_info=True)
        return "unavailable"
    return "ok"
