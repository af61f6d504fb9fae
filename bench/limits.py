"""What rate limits cost the hot path, and a flood from one caller beside a quiet one.

``python -m bench.limits`` (and ``make bench``, after its table):

- **cost**: the dispatcher answering ``bench.add`` in-process, with limits off and
  on (memory storage), alternating rounds, medians kept; the difference per call.
- **flood**: a roomrpc server on one core; on the other, 64 connections of
  ``@flood`` hammer it (wrk) while ``@quiet`` makes a call every 20 ms. The quiet
  caller's latency is measured alone, during the flood with limits on (the flood is
  mostly answered 429), and during the flood with limits off (all of it served).
  The flood calls ``bench.work`` (about half a millisecond of CPU); the quiet
  caller ``bench.add``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["cost", "flood", "main"]

_ROUNDS, _CALLS = 7, 20000
_BODY = json.dumps({"jsonrpc": "2.0", "method": "bench.add", "params": {"a": 1, "b": 2}, "id": 1})
# What @flood calls: about half a millisecond of work, as a call that reads a few rows.
_WORK = json.dumps({"jsonrpc": "2.0", "method": "bench.work", "params": {"a": 1, "b": 2}, "id": 1})


def _dispatcher(limits: bool) -> Any:
    import schema
    from bench.__main__ import AddInput, add
    from schema.openrpc import build_openrpc
    from server.procedures import ROUTERS
    from server.procedures.deps import Deps
    from server.ratelimit import RateLimits
    from server.rpc import (
        Context,
        Dispatcher,
        Router,
        compile_procedures,
        discover_router,
        live_router,
        protected,
    )
    from server.settings import Settings

    router = Router()

    @router.procedure(add)
    async def _add(ctx: Context[Any], params: AddInput) -> int:
        return params.a + params.b

    settings = Settings(rate_limit_reads="1000000000/minute")
    contract = (*schema.CONTRACT, add)

    async def nobody(authorization: str) -> None:
        return None

    document = build_openrpc(contract, title="bench", version="0")
    builtins = [discover_router(document), live_router(nobody, {})]
    procedures = compile_procedures(
        contract, (*ROUTERS, router), builtins=builtins, protect=protected
    )

    return Dispatcher(
        procedures,
        deps=Deps(settings=settings),
        resolve_principal=nobody,
        call_timeout=30,
        max_batch=100,
        limiter=RateLimits(settings) if limits else None,
    )


async def _per_call(dispatcher: Any) -> float:
    body = _BODY.encode()
    handle = dispatcher.handle
    started = time.perf_counter()
    for _ in range(_CALLS):
        await handle(body, request_id="r", authorization=None, client="127.0.0.1")
    return (time.perf_counter() - started) / _CALLS * 1e6


async def cost() -> tuple[float, float]:
    """(µs per call without limits, with them), medians of alternating rounds."""
    off, on = _dispatcher(False), _dispatcher(True)
    plain: list[float] = []
    limited: list[float] = []
    for _ in range(_ROUNDS):
        plain.append(await _per_call(off))
        limited.append(await _per_call(on))
    return statistics.median(plain), statistics.median(limited)


def serve(port: int) -> None:
    """The flood's server: bearer tokens are taken as being ids (no database reads)."""
    from aiohttp import web

    import schema
    from bench.__main__ import AddInput, add
    from schema import query
    from server.http.app import create_app
    from server.procedures import ROUTERS
    from server.rpc import Context, Principal, Router
    from server.settings import load_settings

    router = Router()
    work = query("bench.work", AddInput, int, "about half a millisecond of CPU")

    @router.procedure(add)
    async def _add(ctx: Context[Any], params: AddInput) -> int:
        await asyncio.sleep(0)  # a call that waits once, as one that reads would
        return params.a + params.b

    @router.procedure(work)
    async def _work(ctx: Context[Any], params: AddInput) -> int:
        await asyncio.sleep(0)
        return sum(range(params.a, 20000 + params.b))

    async def bearer(authorization: str) -> Principal:
        return Principal(authorization.removeprefix("Bearer "))

    app = create_app(
        load_settings(env_file=None),
        contract=(*schema.CONTRACT, add, work),
        routers=(*ROUTERS, router),
        resolve_principal=bearer,
    )
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _latencies(url: str, seconds: float) -> list[float]:
    request = urllib.request.Request(
        url,
        data=_BODY.encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer @quiet"},
    )
    found: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200 and b'"result"' in response.read()
        found.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)  # an app's pace: 50 calls a second
    return found


def _flood_run(limits: bool, seconds: float) -> dict[str, float]:
    port = _free_port()
    env = {**os.environ, "LOG_LEVEL": "ERROR", "RATE_LIMITS": str(limits).lower()}
    env["RATE_LIMIT_READS"] = "1200/minute"  # the quiet caller stays under; the flood not
    env["DATA_DIR"] = tempfile.mkdtemp(prefix="roomrpc-flood-")
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "bench.limits", "--serve", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}/rpc"
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        alone = _latencies(url, seconds)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "flood.lua"
            script.write_text(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(_WORK)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
                'wrk.headers["Authorization"] = "Bearer @flood"\n'
            )
            command = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds + 2}s"]
            wrk = subprocess.Popen(
                [*command, "-s", str(script), url],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)
            flooded = _latencies(url, seconds)
            out, _ = wrk.communicate()
        rate = float(out.split("Requests/sec:")[1].split()[0])
        return {
            "alone_p50": statistics.median(alone),
            "alone_p95": statistics.quantiles(alone, n=20)[18],
            "flood_p50": statistics.median(flooded),
            "flood_p95": statistics.quantiles(flooded, n=20)[18],
            "flood_rps": rate,
        }
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def flood(seconds: float = 5) -> None:
    """Print the quiet caller's latency alone and under a flood, limits on and off."""
    print("flood: @flood on 64 connections (wrk), @quiet every 20 ms; the quiet one's latency")
    columns = ("alone p50", "p95", "flooded p50", "p95", "flood req/s")
    print(f"{'limits':8} " + " ".join(f"{c:>11}" for c in columns))
    for limits in (True, False):
        r = _flood_run(limits, seconds)
        print(
            f"{'on' if limits else 'off':8} {r['alone_p50']:9.2f}ms {r['alone_p95']:9.2f}ms "
            f"{r['flood_p50']:9.2f}ms {r['flood_p95']:9.2f}ms {r['flood_rps']:11.0f}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("flood server did not start")


def main() -> None:
    """Both measurements."""
    plain, limited = asyncio.run(cost())
    print(
        f"rate limits, memory storage: {limited - plain:.2f} µs per call "
        f"(dispatch {plain:.2f} µs without, {limited:.2f} µs with)"
    )
    flood()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main()
