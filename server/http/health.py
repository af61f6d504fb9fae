"""``GET /healthz`` (the process answers) and ``GET /readyz`` (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from server.http.noise import NOISE, Noise
from server.rpc import RpcError

__all__ = ["READY_CHECKS", "ReadyCheck", "healthz", "readyz"]

ReadyCheck = Callable[[], Awaitable[None]]
READY_CHECKS = web.AppKey("ready_checks", dict[str, ReadyCheck])
_CHECK_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: every registered dependency check passes within its time limit.

    Anyone may ask, as often as they like: a failure is one short line a minute."""
    checks, noise = request.app[READY_CHECKS], request.app[NOISE]
    results = await asyncio.gather(*(_run(name, c, noise) for name, c in checks.items()))
    report = dict(zip(checks, results, strict=True))
    ready = all(result == "ok" for result in report.values())
    body = {"status": "ready" if ready else "unavailable", "checks": report}
    return web.json_response(body, status=200 if ready else 503)


async def _run(name: str, check: ReadyCheck, noise: Noise) -> str:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            await check()
    except TimeoutError:
        noise.note(f"ready:{name}", f"readiness check {name} timed out")
        return "timeout"
    except RpcError as exc:  # ours: the adapter already logged the cause in one line
        noise.note(f"ready:{name}", f"readiness check {name} failed: {exc.reason or exc.code}")
        return "unavailable"
    except Exception as exc:
        noise.note(f"ready:{name}", f"readiness check {name} failed: {type(exc).__name__}")
        return "unavailable"
    return "ok"
